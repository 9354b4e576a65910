//! The web pages: the chat page at `/` and the tracking page (served by `tracking.rs`). Each is
//! one static HTML file with inline CSS and JS, compiled into the binary, so `freshbot serve`
//! needs no asset directory and no build step.
//!
//! Every page goes out with a Content-Security-Policy that allows exactly its own inline
//! script and style (by SHA-256 hash) and connections back to this server only: injected
//! markup could run no script even if some text ever slipped past `textContent`.

use std::sync::LazyLock;

use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/", get(chat_page))
}

/// A page and its policy.
pub(super) struct Page {
    html: &'static str,
    csp: HeaderValue,
}

impl Page {
    pub(super) fn new(html: &'static str) -> Self {
        let scripts = inline_hashes(html, "script");
        let styles = inline_hashes(html, "style");
        let csp = format!(
            "default-src 'none'; script-src {scripts}; style-src {styles}; \
             connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'"
        );
        Self {
            html,
            csp: HeaderValue::from_str(&csp)
                .unwrap_or(HeaderValue::from_static("default-src 'none'")),
        }
    }

    /// The page's Content-Security-Policy (for tests).
    #[cfg(test)]
    pub(super) fn csp_text(&self) -> &str {
        self.csp.to_str().unwrap_or_default()
    }

    pub(super) fn respond(&self, status: StatusCode) -> Response {
        (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CONTENT_SECURITY_POLICY, self.csp.clone()),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
                // The tracking token is in the page's URL: never hand it to another site.
                (
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            self.html,
        )
            .into_response()
    }
}

/// `'sha256-…'` sources for the bodies of every `<tag>…</tag>` element (attribute-less
/// opening tags only: our pages write them that way).
fn inline_hashes(html: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut sources = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let body_start = start + open.len();
        let Some(len) = rest[body_start..].find(&close) else {
            break;
        };
        let body = &rest[body_start..body_start + len];
        let digest = Sha256::digest(body.as_bytes());
        sources.push(format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
        rest = &rest[body_start + len + close.len()..];
    }
    if sources.is_empty() {
        "'none'".to_owned()
    } else {
        sources.join(" ")
    }
}

pub(super) static CHAT: LazyLock<Page> =
    LazyLock::new(|| Page::new(include_str!("pages/chat.html")));
pub(super) static TRACK: LazyLock<Page> =
    LazyLock::new(|| Page::new(include_str!("pages/track.html")));
pub(super) static NOT_FOUND: LazyLock<Page> =
    LazyLock::new(|| Page::new(include_str!("pages/not_found.html")));

/// `GET /`: the web chat.
async fn chat_page() -> Response {
    CHAT.respond(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_inline_script_and_style_is_hashed() {
        let html = "<style>a{}</style><script>1</script><p>x</p><script>2</script>";
        assert_eq!(inline_hashes(html, "script").matches("'sha256-").count(), 2);
        assert_eq!(inline_hashes(html, "style").matches("'sha256-").count(), 1);
        assert_eq!(inline_hashes("<p>no script</p>", "script"), "'none'");
    }

    #[test]
    fn shipped_pages_have_policies_for_their_code() {
        for page in [&*CHAT, &*TRACK, &*NOT_FOUND] {
            let csp = page.csp.to_str().unwrap_or_default();
            assert!(csp.contains("style-src 'sha256-"), "{csp}");
            assert!(!csp.contains("unsafe-inline"), "{csp}");
        }
        assert!(
            CHAT.csp
                .to_str()
                .unwrap_or_default()
                .contains("script-src 'sha256-")
        );
        assert!(
            TRACK
                .csp
                .to_str()
                .unwrap_or_default()
                .contains("script-src 'sha256-")
        );
    }
}
