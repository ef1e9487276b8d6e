//! `/static/…`: the pages' script and stylesheet, compiled into the binary so that the
//! server is one file with nothing to install beside it.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "static/"]
struct Assets;

pub(super) async fn asset(Path(file): Path<String>) -> Response {
    let Some(asset) = Assets::get(&file) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let kind = match file.rsplit_once('.').map(|(_, extension)| extension) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            // A new binary may bring new files under the same names: revalidate each hour.
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        asset.data.into_owned(),
    )
        .into_response()
}
