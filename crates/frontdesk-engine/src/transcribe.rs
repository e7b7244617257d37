//! Speech to text for media files (B2): `ffmpeg` extracts the audio track
//! (mono, 16 kHz, MP3 at 32 kbit/s: about 14 MB an hour), an
//! OpenAI-compatible server transcribes it (`POST {transcription_url}/audio/transcriptions`),
//! and the timed segments become a [`Document`] with one section per minute or
//! so, headed by its start time — which then goes through the same
//! chunk → store → index path as any extracted file.
//!
//! Audio longer than one request may carry (servers commonly refuse uploads
//! over 25 MB) is cut with ffmpeg's segment muxer and sent piece by piece,
//! each piece's timestamps shifted by where it starts.
//!
//! Everything that can go wrong is a [`TranscribeError`] with a message meant
//! for the person looking at the source; nothing here panics.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use frontdesk_knowledge::{Document, Section};
use frontdesk_store::{source_kind, source_status};

use crate::config::Settings;
use crate::Engine;

/// What one request may carry by default: under the 25 MB limit of OpenAI's
/// endpoint and the servers that copy it.
pub const MAX_REQUEST_BYTES: u64 = 24 * 1024 * 1024;
/// Bytes per second of the extracted audio (32 kbit/s).
const AUDIO_BYTES_PER_SEC: u64 = 4_000;
/// A new transcript section starts after about this many seconds.
const SECTION_SECS: f64 = 60.0;
/// Transcript text beyond this is cut off (as for extracted files).
const MAX_TEXT_CHARS: usize = 5_000_000;

/// Why a media file has no transcript.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TranscribeError {
    #[error("ffmpeg is needed to transcribe audio and video but was not found (ffmpeg_path {0:?}): install ffmpeg")]
    FfmpegMissing(String),
    #[error("the file has no audio track to transcribe")]
    NoAudio,
    #[error("ffmpeg could not extract the audio: {0}")]
    Ffmpeg(String),
    #[error("ffmpeg did not finish within {0} s and was stopped")]
    FfmpegTimeout(u64),
    #[error("the transcription endpoint answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("the transcription endpoint did not answer within {0} s")]
    Timeout(u64),
    #[error("could not reach the transcription endpoint: {0}")]
    Unreachable(String),
    #[error("the transcription endpoint's answer is not a transcript: {0}")]
    Malformed(String),
    #[error("no speech was found in the audio")]
    NoSpeech,
    #[error("could not prepare the audio: {0}")]
    Io(String),
}

/// A piece of transcript with its times in seconds from the start of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// A configured speech-to-text engine.
#[derive(Debug, Clone)]
pub struct Transcriber {
    endpoint: String,
    api_key: String,
    model: String,
    timeout: Duration,
    ffmpeg: String,
    max_request_bytes: u64,
}

impl Transcriber {
    /// The engine the settings name; `None` when `transcription_url` is empty.
    pub fn from_settings(s: &Settings) -> Option<Transcriber> {
        let base = s.transcription_url.trim().trim_end_matches('/');
        if base.is_empty() {
            return None;
        }
        Some(Transcriber {
            endpoint: format!("{base}/audio/transcriptions"),
            api_key: s.transcription_api_key.trim().to_owned(),
            model: if s.transcription_model.trim().is_empty() {
                "whisper-1".to_owned()
            } else {
                s.transcription_model.trim().to_owned()
            },
            timeout: Duration::from_secs(s.transcription_timeout_secs.max(1)),
            ffmpeg: if s.ffmpeg_path.trim().is_empty() { "ffmpeg".to_owned() } else { s.ffmpeg_path.clone() },
            max_request_bytes: MAX_REQUEST_BYTES,
        })
    }

    /// Sends audio in pieces of at most `bytes` (default [`MAX_REQUEST_BYTES`]).
    pub fn with_max_request_bytes(mut self, bytes: u64) -> Transcriber {
        self.max_request_bytes = bytes.max(AUDIO_BYTES_PER_SEC);
        self
    }

    /// The transcript of a media file as a document: one section per
    /// minute or so, headed by its start time (`00:01:20`).
    pub async fn transcribe(&self, tmp_dir: &Path, file_name: &str, bytes: &[u8]) -> Result<Document, TranscribeError> {
        let segments = self.segments(tmp_dir, file_name, bytes).await?;
        let doc = transcript_document(&segments);
        if doc.sections.is_empty() {
            return Err(TranscribeError::NoSpeech);
        }
        Ok(doc)
    }

    /// The timed transcript of a media file.
    pub async fn segments(
        &self,
        tmp_dir: &Path,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Vec<Segment>, TranscribeError> {
        let work = WorkDir::create(tmp_dir).await?;
        let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let ext: String = ext.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
        let input = work.0.join(format!("input.{}", if ext.is_empty() { "bin" } else { &ext }));
        tokio::fs::write(&input, bytes).await.map_err(|e| TranscribeError::Io(e.to_string()))?;
        let audio = work.0.join("audio.mp3");
        self.ffmpeg(&[
            // Local files only: a playlist disguised as a video cannot make ffmpeg fetch URLs.
            "-protocol_whitelist".as_ref(),
            "file".as_ref(),
            "-i".as_ref(),
            input.as_os_str(),
            "-map".as_ref(),
            "0:a:0".as_ref(),
            "-vn".as_ref(),
            "-ac".as_ref(),
            "1".as_ref(),
            "-ar".as_ref(),
            "16000".as_ref(),
            "-c:a".as_ref(),
            "libmp3lame".as_ref(),
            "-b:a".as_ref(),
            "32k".as_ref(),
            "-f".as_ref(),
            "mp3".as_ref(),
            audio.as_os_str(),
        ])
        .await?;
        let _ = tokio::fs::remove_file(&input).await;
        let size = tokio::fs::metadata(&audio).await.map_err(|e| TranscribeError::Io(e.to_string()))?.len();
        let pieces =
            if size <= self.max_request_bytes { vec![(audio, 0.0)] } else { self.split(&work.0, &audio).await? };
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|e| TranscribeError::Unreachable(e.to_string()))?;
        let mut all = Vec::new();
        for (path, offset) in pieces {
            let data = tokio::fs::read(&path).await.map_err(|e| TranscribeError::Io(e.to_string()))?;
            for s in self.request(&client, data).await? {
                all.push(Segment { start: s.start + offset, end: s.end + offset, text: s.text });
            }
        }
        Ok(all)
    }

    /// Cuts the audio into pieces that fit in one request; returns them with
    /// their start times, in order.
    async fn split(&self, dir: &Path, audio: &Path) -> Result<Vec<(PathBuf, f64)>, TranscribeError> {
        // 90 % of the size limit at the constant bitrate, at least a second.
        let secs = (self.max_request_bytes * 9 / 10 / AUDIO_BYTES_PER_SEC).max(1);
        let list = dir.join("segments.csv");
        let pattern = dir.join("piece%05d.mp3");
        self.ffmpeg(&[
            "-i".as_ref(),
            audio.as_os_str(),
            "-f".as_ref(),
            "segment".as_ref(),
            "-segment_time".as_ref(),
            secs.to_string().as_ref(),
            "-segment_list".as_ref(),
            list.as_os_str(),
            "-segment_list_type".as_ref(),
            "csv".as_ref(),
            "-reset_timestamps".as_ref(),
            "1".as_ref(),
            "-c".as_ref(),
            "copy".as_ref(),
            pattern.as_os_str(),
        ])
        .await?;
        let text = tokio::fs::read_to_string(&list).await.map_err(|e| TranscribeError::Io(e.to_string()))?;
        let pieces = parse_segment_list(&text);
        if pieces.is_empty() {
            return Err(TranscribeError::Ffmpeg("splitting the audio produced no pieces".into()));
        }
        Ok(pieces.into_iter().map(|(name, start)| (dir.join(name), start)).collect())
    }

    /// Runs ffmpeg without stdin, killed when it outlives the timeout.
    async fn ffmpeg(&self, args: &[&std::ffi::OsStr]) -> Result<(), TranscribeError> {
        let child = tokio::process::Command::new(&self.ffmpeg)
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => TranscribeError::FfmpegMissing(self.ffmpeg.clone()),
                _ => TranscribeError::Ffmpeg(format!("could not start {:?}: {e}", self.ffmpeg)),
            })?;
        // On timeout the future, and with it the child, is dropped: kill_on_drop stops it.
        let out = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Err(_) => return Err(TranscribeError::FfmpegTimeout(self.timeout.as_secs())),
            Ok(Err(e)) => return Err(TranscribeError::Ffmpeg(e.to_string())),
            Ok(Ok(out)) => out,
        };
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("matches no streams") || stderr.contains("does not contain any stream") {
            return Err(TranscribeError::NoAudio);
        }
        let detail = stderr.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("no message");
        // ffmpeg names the temporary file; the person reading this knows which file it is.
        let detail = detail.rsplit_once(": ").map_or(detail, |(_, m)| m);
        Err(TranscribeError::Ffmpeg(snippet(&format!("{detail} ({})", out.status), 300)))
    }

    /// One transcription request; asks for timed segments (`verbose_json`)
    /// and falls back to plain `json` for servers that refuse it (400/422).
    async fn request(&self, client: &reqwest::Client, audio: Vec<u8>) -> Result<Vec<Segment>, TranscribeError> {
        let mut last = None;
        for format in ["verbose_json", "json"] {
            let part = reqwest::multipart::Part::bytes(audio.clone())
                .file_name("audio.mp3")
                .mime_str("audio/mpeg")
                .map_err(|e| TranscribeError::Io(e.to_string()))?;
            let form = reqwest::multipart::Form::new()
                .part("file", part)
                .text("model", self.model.clone())
                .text("response_format", format);
            let mut rb = client.post(&self.endpoint).multipart(form);
            if !self.api_key.is_empty() {
                rb = rb.bearer_auth(&self.api_key);
            }
            let resp = rb.send().await.map_err(|e| self.http_error(&e))?;
            let status = resp.status();
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let body = resp.bytes().await.map_err(|e| self.http_error(&e))?;
            let body = String::from_utf8_lossy(&body);
            if status.is_success() {
                return parse_response(&content_type, &body);
            }
            let err = TranscribeError::Http { status: status.as_u16(), body: snippet(&body, 200) };
            let retry = format == "verbose_json" && matches!(status.as_u16(), 400 | 422);
            last = Some(err);
            if !retry {
                break;
            }
        }
        Err(last.unwrap_or_else(|| TranscribeError::Malformed("no answer".into())))
    }

    fn http_error(&self, e: &reqwest::Error) -> TranscribeError {
        if e.is_timeout() {
            return TranscribeError::Timeout(self.timeout.as_secs());
        }
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            source = s.source();
        }
        TranscribeError::Unreachable(snippet(&msg, 300))
    }
}

/// A directory for one transcription's files, removed when dropped.
struct WorkDir(PathBuf);

impl WorkDir {
    async fn create(tmp_dir: &Path) -> Result<WorkDir, TranscribeError> {
        let name = format!("media-{}", crate::tokens::random_token("").get(..16).unwrap_or("x"));
        let dir = tmp_dir.join(name);
        tokio::fs::create_dir_all(&dir).await.map_err(|e| TranscribeError::Io(e.to_string()))?;
        Ok(WorkDir(dir))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// At most `max` characters of `s`, whitespace collapsed.
fn snippet(s: &str, max: usize) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut out: String = flat.chars().take(max).collect();
    out.push('…');
    out
}

/// The pieces ffmpeg's segment muxer listed (CSV: file name, start, end).
fn parse_segment_list(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter_map(|line| {
            let mut cols = line.trim().split(',');
            let name = cols.next()?.trim().trim_matches('"');
            let start: f64 = cols.next()?.trim().parse().ok()?;
            // Only names ffmpeg wrote (the pattern), never a path elsewhere.
            let ok = !name.is_empty() && !name.contains(['/', '\\']) && start.is_finite() && start >= 0.0;
            ok.then(|| (name.to_owned(), start))
        })
        .collect()
}

/// Reads a transcription answer: `verbose_json` (timed segments), `json`
/// (`{"text": …}`) or a plain-text body.
pub fn parse_response(content_type: &str, body: &str) -> Result<Vec<Segment>, TranscribeError> {
    let plain = |text: &str| vec![Segment { start: 0.0, end: 0.0, text: text.trim().to_owned() }];
    let json: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) if content_type.contains("json") => {
            return Err(TranscribeError::Malformed(format!("invalid JSON ({e}): {}", snippet(body, 100))))
        }
        Err(_) if content_type.is_empty() || content_type.starts_with("text/plain") => return Ok(plain(body)),
        Err(_) => {
            return Err(TranscribeError::Malformed(format!(
                "unexpected content type {content_type:?}: {}",
                snippet(body, 100)
            )))
        }
    };
    if let Some(list) = json.get("segments").and_then(|s| s.as_array()).filter(|l| !l.is_empty()) {
        let mut out = Vec::with_capacity(list.len());
        for (i, s) in list.iter().enumerate() {
            let start = s.get("start").and_then(|v| v.as_f64()).filter(|v| v.is_finite() && *v >= 0.0);
            let text = s.get("text").and_then(|v| v.as_str());
            let (Some(start), Some(text)) = (start, text) else {
                return Err(TranscribeError::Malformed(format!("segment {i} has no start time or text")));
            };
            let end = s.get("end").and_then(|v| v.as_f64()).filter(|e| e.is_finite() && *e >= start).unwrap_or(start);
            out.push(Segment { start, end, text: text.trim().to_owned() });
        }
        return Ok(out);
    }
    match json.get("text").and_then(|t| t.as_str()) {
        Some(text) => Ok(plain(text)),
        None if json.is_string() => Ok(plain(json.as_str().unwrap_or_default())),
        None => Err(TranscribeError::Malformed(format!("no \"text\" or \"segments\" in {}", snippet(body, 100)))),
    }
}

/// `hh:mm:ss` of a time in seconds.
pub fn timestamp(secs: f64) -> String {
    let t = if secs.is_finite() && secs > 0.0 { secs as u64 } else { 0 };
    format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

/// The transcript as sections of about a minute each, headed by their start
/// time and located by their span (`00:01:20–00:02:18`); empty segments are dropped.
pub fn transcript_document(segments: &[Segment]) -> Document {
    let mut sections: Vec<Section> = Vec::new();
    let mut block: Option<(f64, f64, String)> = None;
    let mut total = 0;
    let close = |(start, end, text): (f64, f64, String), sections: &mut Vec<Section>| {
        sections.push(Section {
            heading_path: vec![timestamp(start)],
            locator: Some(format!("{}–{}", timestamp(start), timestamp(end))),
            text,
        });
    };
    for s in segments {
        let text = s.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() || total >= MAX_TEXT_CHARS {
            continue;
        }
        total += text.len() + 1;
        match block.as_mut() {
            Some((start, end, t)) if s.start < *start + SECTION_SECS => {
                t.push(' ');
                t.push_str(&text);
                *end = end.max(s.end);
            }
            _ => {
                if let Some(b) = block.take() {
                    close(b, &mut sections);
                }
                block = Some((s.start, s.end.max(s.start), text));
            }
        }
    }
    if let Some(b) = block {
        close(b, &mut sections);
    }
    Document { title: None, sections, truncated: None }
}

/// At start, with an engine configured: queues a sync of every media source
/// still waiting for one.
pub async fn enqueue_waiting(state: &Engine) -> anyhow::Result<usize> {
    if Transcriber::from_settings(&state.settings).is_none() {
        return Ok(0);
    }
    let mut n = 0;
    for s in state.store.list_sources(Some(source_kind::FILE)).await? {
        if s.status == source_status::NEEDS_TRANSCRIPTION {
            crate::ingest::enqueue_sync(state, s.id).await?;
            n += 1;
        }
    }
    if n > 0 {
        tracing::info!(sources = n, "media files waiting for a transcription engine queued for transcription");
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start: f64, end: f64, text: &str) -> Segment {
        Segment { start, end, text: text.into() }
    }

    #[test]
    fn answers_in_every_shape_are_read() {
        let v = r#"{"text":"Hello there. Bye.","segments":[{"id":0,"start":0.0,"end":2.5,"text":" Hello there."},{"id":1,"start":2.5,"end":4.0,"text":" Bye."}]}"#;
        assert_eq!(
            parse_response("application/json", v).unwrap(),
            vec![seg(0.0, 2.5, "Hello there."), seg(2.5, 4.0, "Bye.")]
        );
        assert_eq!(
            parse_response("application/json", r#"{"text":" Just text "}"#).unwrap(),
            vec![seg(0.0, 0.0, "Just text")]
        );
        assert_eq!(
            parse_response("text/plain; charset=utf-8", "Plain words.\n").unwrap(),
            vec![seg(0.0, 0.0, "Plain words.")]
        );
        assert_eq!(parse_response("", "Plain words.").unwrap(), vec![seg(0.0, 0.0, "Plain words.")]);
        // An end before the start is taken as the start.
        assert_eq!(
            parse_response("application/json", r#"{"segments":[{"start":3,"end":1,"text":"x"}]}"#).unwrap(),
            vec![seg(3.0, 3.0, "x")]
        );
    }

    #[test]
    fn malformed_answers_are_named() {
        for (ct, body) in [
            ("application/json", "{\"text\": 12}"),
            ("application/json", "[1, 2"),
            ("application/json", r#"{"segments":[{"start":"soon","text":"x"}]}"#),
            ("application/json", r#"{"segments":[{"start":-1,"text":"x"}]}"#),
            ("text/html", "<html>oops</html>"),
        ] {
            let e = parse_response(ct, body).unwrap_err();
            assert!(matches!(e, TranscribeError::Malformed(_)), "{body}: {e:?}");
            assert!(e.to_string().starts_with("the transcription endpoint's answer is not a transcript"));
        }
    }

    #[test]
    fn transcripts_are_sectioned_by_minute() {
        let doc = transcript_document(&[
            seg(0.0, 4.0, " Welcome to the tour. "),
            seg(4.0, 9.5, "Open the  settings."),
            seg(58.0, 61.0, "Still the first minute."),
            seg(61.0, 65.0, ""),
            seg(80.2, 90.0, "Now exports."),
            seg(3725.0, 3730.0, "Much later."),
        ]);
        let heads: Vec<&str> = doc.sections.iter().map(|s| s.heading_path[0].as_str()).collect();
        assert_eq!(heads, ["00:00:00", "00:01:20", "01:02:05"]);
        assert_eq!(doc.sections[0].text, "Welcome to the tour. Open the settings. Still the first minute.");
        assert_eq!(doc.sections[0].locator.as_deref(), Some("00:00:00–00:01:01"));
        assert_eq!(doc.sections[1].text, "Now exports.");
        assert!(transcript_document(&[seg(0.0, 1.0, "  ")]).sections.is_empty());
        assert_eq!(timestamp(f64::NAN), "00:00:00");
    }

    #[test]
    fn segment_lists_are_read_safely() {
        let list = "piece00000.mp3,0.000000,5.016000\npiece00001.mp3,5.016000,10.008000\n../x.mp3,1,2\nbad\n";
        assert_eq!(
            parse_segment_list(list),
            vec![("piece00000.mp3".to_owned(), 0.0), ("piece00001.mp3".to_owned(), 5.016)]
        );
    }

    #[test]
    fn only_a_configured_url_makes_an_engine() {
        assert!(Transcriber::from_settings(&Settings::default()).is_none());
        let s = Settings { transcription_url: " http://stt:8000/v1/ ".into(), ..Settings::default() };
        let t = Transcriber::from_settings(&s).unwrap();
        assert_eq!(t.endpoint, "http://stt:8000/v1/audio/transcriptions");
        assert_eq!(t.model, "whisper-1");
    }

    #[tokio::test]
    async fn a_missing_ffmpeg_is_named() {
        let dir = std::env::temp_dir().join(format!("fd-transcribe-test-{}", std::process::id()));
        let s = Settings {
            transcription_url: "http://127.0.0.1:9/v1".into(),
            ffmpeg_path: "/nonexistent/ffmpeg".into(),
            ..Settings::default()
        };
        let e = Transcriber::from_settings(&s).unwrap().transcribe(&dir, "a.mp4", b"data").await.unwrap_err();
        assert_eq!(e, TranscribeError::FfmpegMissing("/nonexistent/ffmpeg".into()));
        assert!(e.to_string().contains("install ffmpeg"), "{e}");
        // The work directory is gone.
        assert_eq!(std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
