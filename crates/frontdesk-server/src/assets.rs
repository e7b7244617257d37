//! Files the product serves, embedded in the binary.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
pub struct Assets;

fn serve(path: &str) -> Response {
    match Assets::get(path) {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            (
                [
                    (header::CONTENT_TYPE, mime.as_ref().to_owned()),
                    (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
                ],
                file.data.into_owned(),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The live-chat widget, embeddable on any site.
pub async fn widget_js() -> Response {
    let mut r = serve("widget.js");
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, header::HeaderValue::from_static("*"));
    r
}

/// The widget's styles as a file: the `CSS` text of `widget.js` (one source),
/// which the widget links to only in browsers without constructable
/// stylesheets.
pub async fn widget_css() -> Response {
    match Assets::get("widget.js").and_then(|f| widget_css_of(&String::from_utf8_lossy(&f.data)).map(str::to_owned)) {
        Some(css) => (
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=300"),
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            ],
            css,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The template literal assigned to `const CSS` in the widget's source.
fn widget_css_of(js: &str) -> Option<&str> {
    const START: &str = "const CSS = `";
    let from = js.find(START)? + START.len();
    let len = js[from..].find('`')?;
    Some(&js[from..from + len])
}

pub async fn static_asset(Path(path): Path<String>) -> Response {
    if path.contains("..") {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    serve(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widget_css_is_the_widgets_own_text() {
        let js = String::from_utf8(Assets::get("widget.js").unwrap().data.into_owned()).unwrap();
        let css = widget_css_of(&js).unwrap();
        assert!(css.contains(".launcher{position:fixed") && css.contains(".panel{"), "{css}");
        assert!(css.trim_end().ends_with('}'), "the whole sheet: {css}");
        assert!(!css.contains("${"), "a served file cannot interpolate: {css}");
        // The widget styles its shadow root without a <style> element (a strict CSP blocks it).
        assert!(
            !js.contains("<style") && !js.contains("createElement('style')"),
            "widget.js must not create a <style> element"
        );
        assert!(js.contains("adoptedStyleSheets") && js.contains("/widget.css"));
    }
}
