//! Email templates. Every value that comes from a person (tenant names) is HTML-escaped.

use super::Mail;
use crate::domain::Timestamp;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(product: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;color:#1b1f24;max-width:560px;margin:auto;padding:24px\">\
         <h1 style=\"font-size:20px\">{}</h1>{body}\
         <p style=\"color:#57606a;font-size:13px\">If you did not expect this email, you can ignore it.</p>\
         </body></html>",
        escape(product)
    )
}

fn button(link: &str, label: &str) -> String {
    format!(
        "<p><a href=\"{0}\" style=\"display:inline-block;background:#0b57d0;color:#fff;padding:10px 18px;\
         border-radius:6px;text-decoration:none\">{1}</a></p>\
         <p style=\"font-size:13px\">Or paste this link into your browser:<br><a href=\"{0}\">{0}</a></p>",
        escape(link),
        escape(label)
    )
}

/// The invitation to activate an account.
pub fn invitation(product: &str, organisation: &str, link: &str, expires_at: Timestamp) -> Mail {
    let expiry = expires_at.to_human();
    let body = format!(
        "<p>You have been invited to use {product} for <strong>{org}</strong>.</p>\
         <p>Choose your password to activate your account:</p>{button}\
         <p>This link works once and expires on {expiry}. If it has expired, open it anyway to get a new one.</p>",
        product = escape(product),
        org = escape(organisation),
        button = button(link, "Activate my account"),
    );
    let text = format!(
        "You have been invited to use {product} for {organisation}.\n\n\
         Choose your password to activate your account:\n{link}\n\n\
         This link works once and expires on {expiry}. If it has expired, open it anyway to get a new one.\n\n\
         If you did not expect this email, you can ignore it.\n"
    );
    Mail {
        subject: format!("Welcome to {product}"),
        html: layout(product, &body),
        text,
    }
}

/// The invitation of a person whose organisation signs in through its identity provider:
/// no password to choose, just the sign-in link.
pub fn invitation_sso(product: &str, organisation: &str, link: &str) -> Mail {
    let body = format!(
        "<p>You have been invited to use {product} for <strong>{org}</strong>.</p>\
         <p>Sign in with your company account:</p>{button}",
        product = escape(product),
        org = escape(organisation),
        button = button(link, "Sign in with your company account"),
    );
    let text = format!(
        "You have been invited to use {product} for {organisation}.\n\n\
         Sign in with your company account:\n{link}\n\n\
         If you did not expect this email, you can ignore it.\n"
    );
    Mail {
        subject: format!("Welcome to {product}"),
        html: layout(product, &body),
        text,
    }
}

/// The password-reset link.
pub fn password_reset(product: &str, link: &str, expires_at: Timestamp) -> Mail {
    let expiry = expires_at.to_human();
    let body = format!(
        "<p>Someone asked to reset the password of your {product} account.</p>{button}\
         <p>This link works once, until {expiry}. After the reset you still sign in with your second factor, \
         and every other session of your account ends.</p>\
         <p>If you did not ask for this, ignore this email: your password stays as it is.</p>",
        product = escape(product),
        button = button(link, "Choose a new password"),
    );
    let text = format!(
        "Someone asked to reset the password of your {product} account.\n\n\
         Choose a new password:\n{link}\n\n\
         This link works once, until {expiry}. After the reset you still sign in with your second factor, \
         and every other session of your account ends.\n\n\
         If you did not ask for this, ignore this email: your password stays as it is.\n"
    );
    Mail {
        subject: format!("Reset your {product} password"),
        html: layout(product, &body),
        text,
    }
}

/// A sign-in PIN. The PIN is the only secret in it; it is shown in two groups of four.
pub fn sign_in_pin(product: &str, pin: &str, expires_at: Timestamp) -> Mail {
    let grouped = format!("{} {}", &pin[..4.min(pin.len())], &pin[4.min(pin.len())..]);
    let expiry = expires_at.to_human();
    let body = format!(
        "<p>Your code to sign in to {product}:</p>\
         <p style=\"font-size:28px;letter-spacing:4px;font-family:monospace\">{grouped}</p>\
         <p>It works once, until {expiry}. You will still confirm the sign-in with your second \
         factor.</p><p>If you did not try to sign in, ignore this email; nobody can sign in \
         with the code alone.</p>",
        product = escape(product),
        grouped = escape(&grouped),
    );
    let text = format!(
        "Your code to sign in to {product}: {grouped}\n\nIt works once, until {expiry}. You will \
         still confirm the sign-in with your second factor.\n\nIf you did not try to sign in, \
         ignore this email; nobody can sign in with the code alone.\n"
    );
    Mail {
        subject: format!("Your {product} sign-in code"),
        html: layout(product, &body),
        text,
    }
}

/// A notice that the way someone signs in changed (`what`: "Your password was changed.",
/// "A security key was added."…), so that a change the owner did not make does not go unseen.
pub fn sign_in_methods_changed(product: &str, what: &str, at: Timestamp) -> Mail {
    let when = at.to_human();
    let body = format!(
        "<p>{what}</p><p>This happened on {when}. Every other session of your {product} account has \
         been signed out.</p><p>If this was not you, contact your administrator at once: someone \
         may know your password and have access to your second factor.</p>",
        what = escape(what),
        product = escape(product),
    );
    let text = format!(
        "{what}\n\nThis happened on {when}. Every other session of your {product} account has been \
         signed out.\n\nIf this was not you, contact your administrator at once: someone may know \
         your password and have access to your second factor.\n"
    );
    Mail {
        subject: format!("Your {product} sign-in methods changed"),
        html: layout(product, &body),
        text,
    }
}

/// Someone typed the right password (or an emailed code) but then `failures` wrong
/// second-factor codes in a row, from `ip`, at `at` (NIST SP 800-63B §5.2.2): the owner should
/// change their password. Sent at most once an hour.
pub fn second_factor_failures(product: &str, ip: &str, at: Timestamp) -> Mail {
    let when = at.to_human();
    let body = format!(
        "<p>Someone signed in with your password but not your second factor, from {ip} at \
         {when}; change your password.</p><p>After the right password, five wrong codes were \
         entered in a row. If this was you, there is nothing to do. If not, someone knows your \
         {product} password: change it now (\u{201c}Forgot password\u{201d} on the sign-in page \
         works too), and tell your administrator.</p>",
        ip = escape(ip),
        product = escape(product),
    );
    let text = format!(
        "Someone signed in with your password but not your second factor, from {ip} at {when}; \
         change your password.\n\nAfter the right password, five wrong codes were entered in a \
         row. If this was you, there is nothing to do. If not, someone knows your {product} \
         password: change it now (\u{201c}Forgot password\u{201d} on the sign-in page works too), \
         and tell your administrator.\n"
    );
    Mail {
        subject: format!("Someone has your {product} password"),
        html: layout(product, &body),
        text,
    }
}

/// A hundred wrong second-factor codes in a row: the second factor is refused in browsers
/// this account never completed a sign-in in, until the password is reset.
pub fn second_factor_blocked(product: &str, at: Timestamp) -> Mail {
    let when = at.to_human();
    let body = format!(
        "<p>On {when}, the hundredth wrong second-factor code in a row was entered for your \
         {product} account.</p><p>To protect it, second-factor codes are now refused in every \
         browser where you have not signed in before, until you reset your password \
         (\u{201c}Forgot password\u{201d} on the sign-in page). Browsers you signed in with \
         before still work.</p><p>If this was not you, someone knows your password: reset it \
         now and tell your administrator.</p>",
        product = escape(product),
    );
    let text = format!(
        "On {when}, the hundredth wrong second-factor code in a row was entered for your \
         {product} account.\n\nTo protect it, second-factor codes are now refused in every \
         browser where you have not signed in before, until you reset your password \
         (\u{201c}Forgot password\u{201d} on the sign-in page). Browsers you signed in with \
         before still work.\n\nIf this was not you, someone knows your password: reset it now \
         and tell your administrator.\n"
    );
    Mail {
        subject: format!("Second-factor codes for your {product} account are blocked"),
        html: layout(product, &body),
        text,
    }
}

/// A company sign-in (an identity at the organisation's provider) was linked to an account
/// that already signed in another way: from now on that identity signs in as this person.
pub fn company_sign_in_linked(product: &str, provider: &str, at: Timestamp) -> Mail {
    let when = at.to_human();
    let body = format!(
        "<p>A company sign-in was linked to your {product} account.</p><p>On {when} your          organisation's identity provider ({provider}) signed you in, and that sign-in now opens          your account.</p><p>If this was not you, contact your administrator at once.</p>",
        product = escape(product),
        provider = escape(provider),
    );
    let text = format!(
        "A company sign-in was linked to your {product} account.\n\nOn {when} your          organisation's identity provider ({provider}) signed you in, and that sign-in now opens          your account.\n\nIf this was not you, contact your administrator at once.\n"
    );
    Mail {
        subject: format!("A company sign-in was linked to your {product} account"),
        html: layout(product, &body),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invitation_has_both_parts_the_link_and_its_expiry() {
        let link = "https://id.example.com/activate?token=abc";
        let mail = invitation("Porter", "Acme", link, Timestamp(1_795_000_000));
        assert_eq!(mail.subject, "Welcome to Porter");
        for part in [&mail.html, &mail.text] {
            assert!(part.contains(link), "{part}");
            assert!(
                part.contains("Wednesday 18 November 2026, 11:06 UTC"),
                "{part}"
            );
            assert!(part.contains("Acme"));
        }
        assert!(mail.html.starts_with("<!doctype html>"));
    }

    #[test]
    fn the_product_name_is_configurable() {
        let mail = invitation("Acme Cloud", "Acme", "https://x.test/a", Timestamp(0));
        assert_eq!(mail.subject, "Welcome to Acme Cloud");
    }

    #[test]
    fn organisation_names_cannot_inject_html() {
        let mail = invitation(
            "Porter",
            "<script>alert(1)</script>",
            "https://x.test/a",
            Timestamp(0),
        );
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("&lt;script&gt;"));
    }
}
