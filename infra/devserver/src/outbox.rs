//! The local outbox: emails sent through SES, read back from moto's state.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SentMail {
    pub id: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// moto keeps the HTML part of a two-part message.
    pub body: String,
}

impl SentMail {
    /// The first link in the body whose path starts with `path`, e.g. `/activate?token=`.
    pub fn link_to(&self, path: &str) -> Option<String> {
        self.body
            .split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|href| href.replace("&amp;", "&"))
            .find(|href| {
                url::Url::parse(href)
                    .map(|u| {
                        format!("{}?{}", u.path(), u.query().unwrap_or_default()).starts_with(path)
                    })
                    .unwrap_or(false)
            })
    }
}

/// What moto holds, as its `/moto-api/data.json` shows it.
async fn moto_data(moto_endpoint: &str) -> anyhow::Result<serde_json::Value> {
    porter_shared::outbound::use_sdk_tls_provider();
    Ok(reqwest::get(format!("{moto_endpoint}/moto-api/data.json"))
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// Every message sent so far, oldest first.
pub async fn fetch(moto_endpoint: &str) -> anyhow::Result<Vec<SentMail>> {
    let data = moto_data(moto_endpoint).await?;
    let messages = data["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(messages
        .iter()
        .map(|m| SentMail {
            id: m["id"].as_str().unwrap_or_default().to_owned(),
            from: m["source"].as_str().unwrap_or_default().to_owned(),
            to: m["destinations"]["ToAddresses"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            subject: m["subject"].as_str().unwrap_or_default().to_owned(),
            body: m["body"].as_str().unwrap_or_default().to_owned(),
        })
        .collect())
}

/// A text message sent through SNS (moto records them).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SentText {
    pub id: String,
    pub to: String,
    pub body: String,
}

impl SentText {
    /// The six-digit code the message carries, if any.
    pub fn code(&self) -> Option<String> {
        self.body
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .map(str::to_owned)
    }
}

/// Every text message sent so far, oldest first.
pub async fn texts(moto_endpoint: &str) -> anyhow::Result<Vec<SentText>> {
    let data = moto_data(moto_endpoint).await?;
    let messages = data["sns"]["SMS"].as_array().cloned().unwrap_or_default();
    Ok(messages
        .iter()
        .map(|m| SentText {
            id: m["message_id"].as_str().unwrap_or_default().to_owned(),
            to: m["phone_number"].as_str().unwrap_or_default().to_owned(),
            body: m["message"].as_str().unwrap_or_default().to_owned(),
        })
        .collect())
}

/// Messages to one address, oldest first.
pub async fn to(moto_endpoint: &str, address: &str) -> anyhow::Result<Vec<SentMail>> {
    Ok(fetch(moto_endpoint)
        .await?
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(address)))
        .collect())
}
