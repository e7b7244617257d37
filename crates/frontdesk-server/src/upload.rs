//! Reading an uploaded file from a multipart body, for the JSON API's
//! `POST /api/v1/files` and the console's upload form alike: the fields
//! `file`, `as_source` and `citations_enabled`. What is done with the file is
//! `frontdesk_engine::service::knowledge::upload_file`'s.

use axum::extract::Multipart;
use axum::http::StatusCode;
use frontdesk_engine::service::knowledge::{too_large, Upload};

use crate::error::{ApiError, ApiResult, Code};

/// The file and the two switches (both default to true); an unknown field or
/// no file is an error naming it, a body over the limit is 413.
pub(crate) async fn read_upload(mut form: Multipart, max_upload_bytes: usize) -> ApiResult<Upload> {
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut as_source = true;
    let mut citations = true;
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::from(too_large(max_upload_bytes))
        } else {
            ApiError::new(Code::InvalidRequest, format!("the upload is not valid multipart: {}", e.body_text()))
        }
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().map(str::to_owned).unwrap_or_default();
                let data = field.bytes().await.map_err(bad)?;
                file = Some((name, data.to_vec()));
            }
            "as_source" => as_source = field.text().await.map_err(bad)?.trim() != "false",
            "citations_enabled" => citations = field.text().await.map_err(bad)?.trim() != "false",
            other => {
                return Err(ApiError::invalid_field(
                    other,
                    "unknown field; send 'file', 'as_source', 'citations_enabled'",
                ))
            }
        }
    }
    let (name, data) = file.ok_or_else(|| ApiError::invalid_field("file", "is required (multipart field 'file')"))?;
    Ok(Upload { name, data, as_source, citations })
}
