//! Audio and video (B2): a real video made with ffmpeg is uploaded, its audio
//! extracted and sent to a scripted OpenAI-compatible transcription server on
//! loopback, and the agent answers from the transcript. Without an engine the
//! file waits; failures stay on their own source.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use frontdesk_engine::transcribe::{TranscribeError, Transcriber};
use frontdesk_server::config::Settings;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{Backend, TestApp};

/// ffmpeg makes the test videos and runs inside the server: missing, the
/// tests fail under `CI=true` and are skipped loudly otherwise.
fn ffmpeg_available() -> bool {
    let ok = std::process::Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but ffmpeg is not installed: the transcription tests need it (apt-get install ffmpeg)");
        }
        eprintln!("SKIPPED: transcription test (ffmpeg is not installed)");
    }
    ok
}

/// A small real MP4 (blue frames, and a 440 Hz tone unless `audio` is false).
fn video(seconds: u32, audio: bool) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.mp4");
    let mut cmd = std::process::Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("color=c=blue:s=64x64:d={seconds}"));
    if audio {
        cmd.args(["-f", "lavfi", "-i"]).arg(format!("sine=frequency=440:duration={seconds}"));
        cmd.args(["-c:a", "aac"]);
    }
    cmd.args(["-c:v", "mpeg4", "-shortest"]).arg(&out);
    let o = cmd.output().expect("run ffmpeg");
    assert!(o.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(out).unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// A verbose_json transcript.
    Transcript,
    /// One timed segment per request, named by the request's number.
    PerPiece,
    Fail,
    Malformed,
    Slow,
}

#[derive(Debug, Clone, Default)]
struct Received {
    model: String,
    response_format: String,
    file_name: String,
    audio: Vec<u8>,
    auth: Option<String>,
}

#[derive(Clone)]
struct Stt {
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Stt {
    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

const TRANSCRIPT: &str = r#"{"task":"transcribe","language":"english","duration":75.0,
"text":"Welcome to the Nimbus Notes video tour. To export your notes, open Settings, choose Export and pick PDF or Markdown. Shared notebooks sync every five minutes on the free plan.",
"segments":[
 {"id":0,"seek":0,"start":0.0,"end":4.2,"text":" Welcome to the Nimbus Notes video tour."},
 {"id":1,"seek":0,"start":4.2,"end":9.8,"text":" To export your notes, open Settings, choose Export and pick PDF or Markdown."},
 {"id":2,"seek":0,"start":70.0,"end":75.0,"text":" Shared notebooks sync every five minutes on the free plan."}]}"#;

/// `POST /v1/audio/transcriptions` as OpenAI-compatible servers answer it;
/// refuses requests without a `file` part of audio bytes or a `model`.
async fn transcriptions(State(stt): State<Stt>, headers: HeaderMap, mut form: Multipart) -> Response {
    let mut r = Received {
        auth: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned),
        ..Received::default()
    };
    while let Ok(Some(field)) = form.next_field().await {
        match field.name().unwrap_or_default() {
            "file" => {
                r.file_name = field.file_name().unwrap_or_default().to_owned();
                r.audio = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            }
            "model" => r.model = field.text().await.unwrap_or_default(),
            "response_format" => r.response_format = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    if r.audio.is_empty() || r.model.is_empty() {
        return (StatusCode::BAD_REQUEST, "a file and a model are required").into_response();
    }
    let n = {
        let mut all = stt.received.lock().unwrap();
        all.push(r);
        all.len()
    };
    let mode = *stt.mode.lock().unwrap();
    let json = |body: String| ([("content-type", "application/json")], body).into_response();
    match mode {
        Mode::Transcript => json(TRANSCRIPT.into()),
        Mode::PerPiece => {
            json(json!({"text": format!("Piece {n}."), "segments": [{"start": 0.5, "end": 1.0, "text": format!("Piece {n}.")}]}).to_string())
        }
        Mode::Fail => (StatusCode::INTERNAL_SERVER_ERROR, "model exploded: CUDA out of memory").into_response(),
        Mode::Malformed => json(r#"{"result": "done"}"#.into()),
        Mode::Slow => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            json(TRANSCRIPT.into())
        }
    }
}

/// The scripted transcription server; returns it and its `/v1` base URL.
async fn stt_server(mode: Mode) -> (Stt, String) {
    let stt = Stt { mode: Arc::new(Mutex::new(mode)), received: Arc::default() };
    let app = axum::Router::new().route("/v1/audio/transcriptions", post(transcriptions)).with_state(stt.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (stt, base)
}

async fn upload(app: &TestApp, name: &str, bytes: Vec<u8>) -> Value {
    let form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    let r = app.client.post(app.url("/api/v1/files")).bearer_auth(&app.admin_key).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 202);
    r.json().await.unwrap()
}

async fn ask(app: &TestApp, q: &str) -> Value {
    let (id, token) = app.visitor(json!({})).await;
    assert_eq!(app.say(id, &token, q).await.0, 201);
    app.messages(id, &token).await.last().unwrap().clone()
}

/// Waits until the source is in `status` with an error containing `error` (if given).
async fn source_becomes(app: &TestApp, id: i64, status: &str, error: Option<&str>) -> Value {
    let mut last = Value::Null;
    for _ in 0..300 {
        let (_, v) = app.admin(Method::GET, &format!("/api/v1/sources/{id}"), None).await;
        let s = &v["source"];
        let error_ok = error.is_none_or(|e| s["error"].as_str().is_some_and(|m| m.contains(e)));
        if s["status"] == status && error_ok {
            return v;
        }
        last = v;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("source {id} did not become {status} {error:?}: {}", last["source"]);
}

fn with_engine(base: &str) -> impl Fn(&mut Settings) + Clone {
    let base = base.to_owned();
    move |s: &mut Settings| {
        s.transcription_url = base.clone();
        s.transcription_api_key = "sk-test".into();
        s.transcription_model = "whisper-large-v3".into();
        s.transcription_timeout_secs = 1;
    }
}

async fn media_is_transcribed_and_answered(backend: Backend) {
    if !ffmpeg_available() {
        return;
    }
    let (stt, base) = stt_server(Mode::Transcript).await;
    let Some(app) = TestApp::spawn_with(backend, with_engine(&base)).await else { return };
    app.seed_agent().await;
    let tour = upload(&app, "tour.mp4", video(3, true)).await["source"]["id"].as_i64().unwrap();
    let silent = upload(&app, "silent-film.mov", video(2, false)).await["source"]["id"].as_i64().unwrap();

    let v = source_becomes(&app, tour, "ready", None).await;
    let chunks = v["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), 2, "one chunk per minute of speech: {v}");
    assert_eq!(chunks[0]["heading_path"], json!(["00:00:00"]));
    assert_eq!(chunks[0]["locator"], "00:00:00–00:00:09");
    assert!(chunks[0]["text"].as_str().unwrap().contains("To export your notes, open Settings"), "{v}");
    assert_eq!(chunks[1]["heading_path"], json!(["00:01:10"]));
    assert_eq!(chunks[1]["text"], "Shared notebooks sync every five minutes on the free plan.");
    let text = v["text"].as_str().unwrap();
    assert!(text.starts_with("00:00:00\nWelcome to the Nimbus Notes video tour."), "{text}");

    // The server got the audio: a multipart `file` of MP3 bytes, the model, the key.
    let got = stt.received();
    assert_eq!(got.len(), 1, "the video without audio never reached the endpoint");
    assert_eq!(got[0].model, "whisper-large-v3");
    assert_eq!(got[0].response_format, "verbose_json");
    assert_eq!(got[0].auth.as_deref(), Some("Bearer sk-test"));
    assert_eq!(got[0].file_name, "audio.mp3");
    let audio = &got[0].audio;
    assert!(audio.len() > 1000 && (audio.starts_with(b"ID3") || audio[0] == 0xFF), "{} bytes", audio.len());

    let v = source_becomes(&app, silent, "error", None).await;
    assert_eq!(v["source"]["error"], "the file has no audio track to transcribe");

    let reply = ask(&app, "How do I export my notes?").await;
    assert_eq!(reply["author"], "agent");
    assert!(reply["text"].as_str().unwrap().contains("choose Export and pick PDF or Markdown"), "{reply}");
    assert_eq!(reply["citations"][0]["title"], "tour.mp4");
    let reply = ask(&app, "how often do shared notebooks sync on the free plan?").await;
    assert!(reply["text"].as_str().unwrap().contains("every five minutes"), "{reply}");

    // Nothing is left behind in the temporary directory.
    let tmp = app.state.settings.data_dir.join("tmp");
    let left: Vec<_> =
        std::fs::read_dir(&tmp).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

crate::both_backends!(media_is_transcribed_and_answered, backend);

async fn media_waits_for_an_engine(backend: Backend) {
    if !ffmpeg_available() {
        return;
    }
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.seed_agent().await;
    let bytes = video(3, true);
    let r = upload(&app, "tour.webm", bytes.clone()).await;
    let id = r["source"]["id"].as_i64().unwrap();
    let v = source_becomes(&app, id, "needs_transcription", None).await;
    assert_eq!(v["source"]["error"], "needs a transcription engine");
    assert_eq!(v["chunks"], json!([]));
    // The file is kept, whole.
    let (_, files) = app.admin(Method::GET, "/api/v1/files", None).await;
    assert_eq!(files[0]["name"], "tour.webm");
    assert_eq!(files[0]["size"], bytes.len());
    // Re-sync without an engine changes nothing.
    assert_eq!(app.admin(Method::POST, &format!("/api/v1/sources/{id}/resync"), None).await.0, 202);
    tokio::time::sleep(Duration::from_millis(300)).await;
    source_becomes(&app, id, "needs_transcription", Some("needs a transcription engine")).await;

    // Once an engine is configured, the waiting file is transcribed at start.
    let (stt, base) = stt_server(Mode::Transcript).await;
    let db = app.stop().await;
    let app = TestApp::spawn_on(db, with_engine(&base)).await;
    let v = source_becomes(&app, id, "ready", None).await;
    assert_eq!(v["source"]["chunk_count"], 2);
    assert_eq!(stt.received().len(), 1);
    let reply = ask(&app, "How do I export my notes?").await;
    assert!(reply["text"].as_str().unwrap().contains("choose Export"), "{reply}");
    // An uploaded file never changes: a re-sync does not transcribe it again.
    assert_eq!(app_resync(&app, id).await, 202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    source_becomes(&app, id, "ready", None).await;
    assert_eq!(stt.received().len(), 1, "no second transcription");
}

crate::both_backends!(media_waits_for_an_engine, backend);

async fn endpoint_failures_stay_on_their_source(backend: Backend) {
    if !ffmpeg_available() {
        return;
    }
    let (stt, base) = stt_server(Mode::Fail).await;
    let Some(app) = TestApp::spawn_with(backend, with_engine(&base)).await else { return };
    app.seed_agent().await;
    let tour = upload(&app, "tour.mp4", video(3, true)).await["source"]["id"].as_i64().unwrap();
    let notes = "# Sync\n\nShared notebooks sync every ten minutes on the Starter plan.\n";
    let md = upload(&app, "sync.md", notes.as_bytes().to_vec()).await["source"]["id"].as_i64().unwrap();

    let v = source_becomes(&app, tour, "error", None).await;
    assert_eq!(
        v["source"]["error"], "the transcription endpoint answered HTTP 500: model exploded: CUDA out of memory",
        "{v}"
    );
    source_becomes(&app, md, "ready", None).await;
    let reply = ask(&app, "how often do shared notebooks sync on the Starter plan?").await;
    assert!(reply["text"].as_str().unwrap().contains("ten minutes"), "{reply}");

    // A malformed answer, then one too slow (timeout 1 s), then a good one: re-sync tries again.
    stt.set(Mode::Malformed);
    assert_eq!(app_resync(&app, tour).await, 202);
    source_becomes(&app, tour, "error", Some("the transcription endpoint's answer is not a transcript")).await;
    stt.set(Mode::Slow);
    assert_eq!(app_resync(&app, tour).await, 202);
    source_becomes(&app, tour, "error", Some("the transcription endpoint did not answer within 1 s")).await;
    stt.set(Mode::Transcript);
    assert_eq!(app_resync(&app, tour).await, 202);
    source_becomes(&app, tour, "ready", None).await;
    source_becomes(&app, md, "ready", None).await;
}

async fn app_resync(app: &TestApp, id: i64) -> u16 {
    app.admin(Method::POST, &format!("/api/v1/sources/{id}/resync"), None).await.0
}

crate::both_backends!(endpoint_failures_stay_on_their_source, backend);

fn engine(base: &str) -> Transcriber {
    let s = Settings { transcription_url: base.into(), transcription_timeout_secs: 10, ..Settings::default() };
    Transcriber::from_settings(&s).unwrap()
}

/// Audio larger than one request is cut into pieces, sent in order, and
/// each piece's times are shifted by where it starts. Bad files are named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_audio_is_sent_in_pieces_and_bad_media_are_named() {
    if !ffmpeg_available() {
        return;
    }
    let (stt, base) = stt_server(Mode::PerPiece).await;
    let tmp = tempfile::tempdir().unwrap();
    // 12 s of audio at 4,000 bytes/s; pieces of at most 16,000 bytes hold 3.6 s → 3 s pieces.
    let t = engine(&base).with_max_request_bytes(16_000);
    let segments = t.segments(tmp.path(), "long.mp4", &video(12, true)).await.unwrap();
    let got = stt.received();
    assert!((4..=5).contains(&got.len()), "{} pieces", got.len());
    assert!(
        got.iter().all(|r| !r.audio.is_empty() && r.audio.len() <= 16_000),
        "{:?}",
        got.iter().map(|r| r.audio.len()).collect::<Vec<_>>()
    );
    assert_eq!(segments.len(), got.len());
    for (i, s) in segments.iter().enumerate() {
        assert_eq!(s.text, format!("Piece {}.", i + 1));
        let expected = 3.0 * i as f64 + 0.5;
        assert!((s.start - expected).abs() < 0.3, "piece {i} starts at {} (expected ≈ {expected})", s.start);
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "the pieces are removed");

    let t = engine(&base);
    assert_eq!(t.segments(tmp.path(), "silent.mp4", &video(1, false)).await.unwrap_err(), TranscribeError::NoAudio);
    let e = t.segments(tmp.path(), "junk.avi", b"this is not a video at all").await.unwrap_err();
    assert!(matches!(&e, TranscribeError::Ffmpeg(m) if m.contains("Invalid data")), "{e:?}");
    assert!(!e.to_string().contains(tmp.path().to_str().unwrap()), "no temporary paths in messages: {e}");
    // A playlist disguised as a video: ffmpeg may not fetch what it names.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = format!("http://{}/segment.ts", listener.local_addr().unwrap());
    let fetched = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = fetched.clone();
    tokio::spawn(async move {
        if listener.accept().await.is_ok() {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let playlist = format!("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n{target}\n#EXT-X-ENDLIST\n");
    assert!(t.segments(tmp.path(), "playlist.mp4", playlist.as_bytes()).await.is_err());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!fetched.load(std::sync::atomic::Ordering::SeqCst), "ffmpeg fetched {target}");
    // Nothing listens on the discard port.
    let e = engine("http://127.0.0.1:9/v1").segments(tmp.path(), "a.mp4", &video(1, true)).await.unwrap_err();
    assert!(matches!(&e, TranscribeError::Unreachable(_)), "{e:?}");
    assert!(e.to_string().starts_with("could not reach the transcription endpoint"), "{e}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
