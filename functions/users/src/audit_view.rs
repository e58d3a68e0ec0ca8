//! `GET /api/audit`: the organisation's trail, newest first, in pages (`limit`, `next`),
//! filtered by `action` and by `person` (an address: what they did or what was done to them);
//! `format=csv` exports everything the filters keep (at most `CSV_MAX` events) as a download.

use lambda_http::http::StatusCode;
use porter_shared::auth::access;
use porter_shared::domain::{Action, TenantId};
use porter_shared::http::{attachment, json, query_param, HandlerResult, Request};
use porter_shared::store::audit::{AuditEntry, AuditFilter};
use porter_shared::AppState;
use serde::Serialize;

/// The most events one export holds.
const CSV_MAX: usize = 5000;

fn filter(req: &Request) -> AuditFilter {
    let given = |name| {
        query_param(req, name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    AuditFilter {
        action: given("action"),
        person: given("person").map(|p| p.to_lowercase()),
    }
}

/// A page: two requests one after the other (the session; the caller and tenant while the
/// page is read). The CSV export reads page after page once the caller is known.
pub async fn serve(state: &AppState, req: &Request) -> HandlerResult {
    let filter = filter(req);
    if query_param(req, "format").as_deref() == Some("csv") {
        let admin = access::admin(state, req, true).await?;
        return csv(state, &admin.tenant.id, &filter).await;
    }
    let limit = query_param(req, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50)
        .clamp(1, 100);
    let after = query_param(req, "next");
    let (after, filter) = (after.as_deref(), &filter);
    let read =
        |tid: TenantId, _| async move { state.store.audit_page(&tid, limit, after, filter).await };
    let (_, (events, next)) = access::admin_alongside(state, req, true, read).await?;
    let page = AuditPage {
        events: events.into_iter().map(Row::from).collect(),
        next,
        actions: Action::all()
            .map(|a| ActionLabel {
                action: a.as_str(),
                label: a.label(),
            })
            .collect(),
    };
    Ok(json(StatusCode::OK, &page))
}

/// A page of the trail, with every action and its label for the filter: the page keeps no
/// copy of them.
#[derive(Serialize)]
struct AuditPage {
    events: Vec<Row>,
    next: Option<String>,
    actions: Vec<ActionLabel>,
}

#[derive(Serialize)]
struct ActionLabel {
    action: &'static str,
    label: &'static str,
}

/// An event as stored, and as a sentence (`label`).
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    entry: AuditEntry,
    label: String,
}

impl From<AuditEntry> for Row {
    fn from(entry: AuditEntry) -> Self {
        let label = match Action::parse(&entry.action) {
            Some(a) => a.describe(
                &entry.outcome,
                entry.target_email.as_deref(),
                entry.detail.as_deref(),
            ),
            // An action this version does not know (written by a newer one): as stored.
            None => entry.action.clone(),
        };
        Self { entry, label }
    }
}

async fn csv(state: &AppState, tid: &TenantId, filter: &AuditFilter) -> HandlerResult {
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let (events, next) = state
            .store
            .audit_page(tid, 100, after.as_deref(), filter)
            .await?;
        rows.extend(events);
        if rows.len() >= CSV_MAX || next.is_none() {
            break;
        }
        after = next;
    }
    rows.truncate(CSV_MAX);
    let mut out =
        String::from("time,action,outcome,actor,actor_email,msp,target,target_email,source_ip\r\n");
    for e in &rows {
        out.push_str(&line(e));
    }
    // No-store comes with every answer (`with_security_headers`).
    Ok(attachment(
        "text/csv; charset=utf-8",
        "attachment; filename=\"audit.csv\"",
        out,
    ))
}

fn line(e: &AuditEntry) -> String {
    let cells = [
        e.at.as_str(),
        e.action.as_str(),
        e.outcome.as_str(),
        e.actor.as_str(),
        e.actor_email.as_deref().unwrap_or(""),
        e.via.as_deref().unwrap_or(""),
        e.target.as_deref().unwrap_or(""),
        e.target_email.as_deref().unwrap_or(""),
        e.source_ip.as_str(),
    ];
    let mut l = cells.map(cell).join(",");
    l.push_str("\r\n");
    l
}

/// One CSV cell (RFC 4180 quoting). A cell a spreadsheet would run as a formula starts with
/// an apostrophe: an event's text comes partly from people.
fn cell(raw: &str) -> String {
    let guarded = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("a\"b"), "\"a\"\"b\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("bob@acme.test"), "\"bob@acme.test\"");
    }
}
