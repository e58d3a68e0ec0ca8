//! The few pages the provider shows itself: a request it must not send back to the app, and
//! the sign-out confirmation. Everything shown is escaped; the page has no script.

use lambda_http::http::StatusCode;
use porter_shared::http::{html, Body, Response};
use porter_shared::mail::templates::escape;

fn frame(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/assets/porter.css\">\n</head>\n\
         <body>\n<main>\n<div class=\"brand\">Porter</div>\n<h1>{title}</h1>\n{body}\n</main>\n</body>\n</html>\n",
        title = escape(title)
    )
}

/// A page saying what went wrong, in words (nothing is sent back to the app).
pub fn problem(status: StatusCode, title: &str, message: &str) -> Response<Body> {
    let body = format!(
        "<p role=\"alert\">{}</p>\n<p class=\"hint\"><a href=\"/app\">Go to Porter</a></p>",
        escape(message)
    );
    html(status, frame(title, &body))
}

/// "Sign out of Porter?", posting the request's own parameters back on confirmation.
pub fn confirm_sign_out(fields: &[(&str, &str)]) -> Response<Body> {
    let hidden: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let body = format!(
        "<p>An app asked to sign you out of Porter.</p>\n\
         <form method=\"post\" action=\"/oauth2/logout\">\n{hidden}<button type=\"submit\">Sign out</button>\n</form>\n\
         <p class=\"hint\"><a href=\"/app\">Stay signed in</a></p>"
    );
    html(StatusCode::OK, frame("Sign out of Porter?", &body))
}
