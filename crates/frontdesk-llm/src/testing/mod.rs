//! `ScriptedServer`: an OpenAI-compatible chat-completions server on loopback that
//! replays scripted responses — for tests and benchmarks (feature `testing`).
//!
//! ```ignore
//! use frontdesk_llm::testing::{ScriptedServer, Scripted, Dialect, openai_text};
//! let server = ScriptedServer::start().await;
//! server.push(openai_text(&["Refunds take ", "5 days [1]."]));
//! server.push(Dialect::Vllm.tool_calls(&[ToolCall::new("c1", "search_knowledge", r#"{"query":"x"}"#)]));
//! server.push(Scripted::no_answer());                       // hangs before the headers
//! server.push(openai_text(&["a", "b"]).hang_after(2));      // hangs mid-stream
//! server.push(html_error(502));
//! let client = Client::new(server.config())?;               // base_url = http://127.0.0.1:port/v1
//! // … run the engine …
//! let sent = server.requests();                              // every request, in order
//! assert_eq!(sent[1].messages().last().unwrap()["role"], "tool");
//! ```
//!
//! Every `POST …/chat/completions` (any prefix) takes the next scripted response from
//! the queue; when the queue is empty the fallback response ([`ScriptedServer::set_fallback`],
//! handy for benchmarks) is served, or else a 500 saying the script ran out. Other
//! paths get a 404. Connections are kept alive (chunked framing) like a real server.
//! Dropping the server stops it and closes every connection, hanging ones included.

mod dialects;

pub use dialects::*;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

use crate::LlmConfig;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 32 * 1024 * 1024;

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Transfer-Encoding: chunked`, one HTTP chunk per scripted chunk (the default).
    Chunked,
    /// `Content-Length` (delays still apply between writes).
    ContentLength,
    /// No length: the body ends when the connection closes.
    Close,
}

/// What happens after the last scripted chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The body ends properly.
    Complete,
    /// The connection stays open and silent until the client goes away.
    Hang,
    /// The connection is closed abruptly (mid-body for chunked/length framing).
    Cut,
}

/// A piece of the body, written after `delay`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub delay: Duration,
    pub bytes: Vec<u8>,
}

/// One scripted HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripted {
    pub status: u16,
    /// Includes `content-type`.
    pub headers: Vec<(String, String)>,
    /// Wait before the status line.
    pub head_delay: Duration,
    /// Never send anything (the server accepted the request and hangs).
    pub silent: bool,
    pub chunks: Vec<Chunk>,
    pub framing: Framing,
    pub end: End,
}

impl Scripted {
    pub fn new(status: u16, content_type: &str) -> Self {
        Scripted {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            head_delay: Duration::ZERO,
            silent: false,
            chunks: Vec::new(),
            framing: Framing::Chunked,
            end: End::Complete,
        }
    }

    /// SSE: `data: {event}\n\n` per event, then `data: [DONE]\n\n`.
    pub fn sse<S: AsRef<str>>(events: impl IntoIterator<Item = S>) -> Self {
        let mut r = Scripted::sse_raw(events.into_iter().map(|e| format!("data: {}\n\n", e.as_ref())));
        r.chunks.push(Chunk { delay: Duration::ZERO, bytes: b"data: [DONE]\n\n".to_vec() });
        r
    }

    /// SSE with the chunks written exactly as given.
    pub fn sse_raw<B: Into<Vec<u8>>>(chunks: impl IntoIterator<Item = B>) -> Self {
        let mut r = Scripted::new(200, "text/event-stream");
        r.headers.push(("cache-control".into(), "no-cache".into()));
        r.chunks = chunks.into_iter().map(|b| Chunk { delay: Duration::ZERO, bytes: b.into() }).collect();
        r
    }

    /// NDJSON: one JSON value per line (Ollama's native API).
    pub fn ndjson<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> Self {
        let mut r = Scripted::new(200, "application/x-ndjson");
        r.chunks = lines
            .into_iter()
            .map(|l| Chunk { delay: Duration::ZERO, bytes: format!("{}\n", l.as_ref()).into_bytes() })
            .collect();
        r
    }

    /// A whole JSON body.
    pub fn json(status: u16, body: &Value) -> Self {
        Scripted::new(status, "application/json").chunk(body.to_string())
    }

    /// A whole HTML body (a proxy's error page).
    pub fn html(status: u16, body: &str) -> Self {
        Scripted::new(status, "text/html; charset=utf-8").chunk(body)
    }

    /// Accepts the request and never answers.
    pub fn no_answer() -> Self {
        Scripted { silent: true, ..Scripted::new(200, "text/event-stream") }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn chunk(self, bytes: impl Into<Vec<u8>>) -> Self {
        self.chunk_after(Duration::ZERO, bytes)
    }

    pub fn chunk_after(mut self, delay: Duration, bytes: impl Into<Vec<u8>>) -> Self {
        self.chunks.push(Chunk { delay, bytes: bytes.into() });
        self
    }

    /// Every chunk after the first waits `delay` (slow tokens).
    pub fn delay_each(mut self, delay: Duration) -> Self {
        for c in self.chunks.iter_mut().skip(1) {
            c.delay = delay;
        }
        self
    }

    /// Waits `delay` before the status line.
    pub fn head_delay(mut self, delay: Duration) -> Self {
        self.head_delay = delay;
        self
    }

    /// Sends every chunk, then hangs without ending the body.
    pub fn hang(mut self) -> Self {
        self.end = End::Hang;
        self
    }

    /// Sends the first `n` chunks, then hangs.
    pub fn hang_after(mut self, n: usize) -> Self {
        self.chunks.truncate(n);
        self.end = End::Hang;
        self
    }

    /// Sends the first `n` chunks, then closes the connection abruptly.
    pub fn cut_after(mut self, n: usize) -> Self {
        self.chunks.truncate(n);
        self.end = End::Cut;
        self
    }

    pub fn framing(mut self, framing: Framing) -> Self {
        self.framing = framing;
        self
    }

    /// The whole body as one string (for assertions and debugging).
    pub fn body_text(&self) -> String {
        self.chunks.iter().map(|c| String::from_utf8_lossy(&c.bytes)).collect()
    }
}

/// A request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// With the query string, as sent.
    pub path: String,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// `messages` of a chat request.
    pub fn messages(&self) -> Vec<Value> {
        self.json().get("messages").and_then(Value::as_array).cloned().unwrap_or_default()
    }

    /// Names of the `tools` offered.
    pub fn tool_names(&self) -> Vec<String> {
        let body = self.json();
        let tools = body.get("tools").and_then(Value::as_array).cloned().unwrap_or_default();
        tools.iter().filter_map(|t| t.pointer("/function/name").and_then(Value::as_str).map(str::to_string)).collect()
    }

    /// Content of the system message.
    pub fn system_prompt(&self) -> String {
        self.messages()
            .iter()
            .find(|m| m["role"] == "system")
            .and_then(|m| m["content"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<Scripted>>,
    fallback: Mutex<Option<Scripted>>,
    requests: Mutex<Vec<RecordedRequest>>,
    arrived: Notify,
}

impl Shared {
    fn next(&self) -> Scripted {
        if let Some(r) = self.queue.lock().unwrap().pop_front() {
            return r;
        }
        if let Some(r) = self.fallback.lock().unwrap().clone() {
            return r;
        }
        Scripted::json(
            500,
            &serde_json::json!({"error": {"message": "ScriptedServer: no scripted response left", "type": "server_error"}}),
        )
    }
}

/// See the [module documentation](self).
pub struct ScriptedServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for ScriptedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedServer").field("addr", &self.addr).finish()
    }
}

impl ScriptedServer {
    /// Binds 127.0.0.1 on a free port and serves on the current tokio runtime.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        ScriptedServer { addr, shared, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:{port}/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// A config for this server: model `scripted-model`, short time limits (connect 1 s,
    /// first token 5 s, idle 5 s, total 20 s). Adjust fields as needed.
    pub fn config(&self) -> LlmConfig {
        LlmConfig {
            connect_timeout_ms: 1_000,
            first_token_timeout_ms: 5_000,
            idle_timeout_ms: 5_000,
            total_timeout_ms: 20_000,
            ..LlmConfig::new(self.base_url(), "scripted-model")
        }
    }

    /// Queues a response for the next chat request.
    pub fn push(&self, response: Scripted) -> &Self {
        self.shared.queue.lock().unwrap().push_back(response);
        self
    }

    pub fn push_all(&self, responses: impl IntoIterator<Item = Scripted>) -> &Self {
        self.shared.queue.lock().unwrap().extend(responses);
        self
    }

    /// The response served whenever the queue is empty (`None`: a 500).
    pub fn set_fallback(&self, response: Option<Scripted>) {
        *self.shared.fallback.lock().unwrap() = response;
    }

    /// Queued responses not served yet.
    pub fn remaining(&self) -> usize {
        self.shared.queue.lock().unwrap().len()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn request_count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    pub fn clear_requests(&self) {
        self.shared.requests.lock().unwrap().clear();
    }

    /// Waits until at least `n` requests have arrived (or `timeout` passes); returns
    /// whether they did.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            if self.request_count() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.request_count() >= n;
            }
        }
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((sock, _)) => {
                    let _ = sock.set_nodelay(true);
                    conns.spawn(serve(sock, shared.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn serve(mut sock: TcpStream, shared: Arc<Shared>) {
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut sock, &mut buf).await else { return };
        let route = req.path.split('?').next().unwrap_or("");
        let is_chat = req.method == "POST" && route.trim_end_matches('/').ends_with("/chat/completions");
        shared.requests.lock().unwrap().push(RecordedRequest {
            method: req.method,
            path: req.path,
            headers: req.headers,
            body: req.body,
        });
        shared.arrived.notify_waiters();
        let response = if is_chat {
            shared.next()
        } else {
            Scripted::json(404, &serde_json::json!({"error": {"message": "not found", "type": "not_found"}}))
        };
        if !respond(&mut sock, &response).await {
            return;
        }
    }
}

async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD || !read_more(sock, buf).await {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let body = if get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                if !read_more(sock, buf).await {
                    return None;
                }
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            buf.drain(..line_end + 2);
            while buf.len() < size + 2 {
                if !read_more(sock, buf).await {
                    return None;
                }
            }
            if size == 0 {
                buf.drain(..2);
                break body;
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
            if body.len() > MAX_BODY {
                return None;
            }
        }
    } else {
        let len: usize = get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        if len > MAX_BODY {
            return None;
        }
        while buf.len() < len {
            if !read_more(sock, buf).await {
                return None;
            }
        }
        buf.drain(..len).collect()
    };
    Some(Request { method, path, headers, body })
}

async fn read_more(sock: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut tmp = [0u8; 16 * 1024];
    match sock.read(&mut tmp).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&tmp[..n]);
            true
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Waits until the client closes the connection.
async fn until_closed(sock: &mut TcpStream) {
    let mut tmp = [0u8; 1024];
    while let Ok(n) = sock.read(&mut tmp).await {
        if n == 0 {
            break;
        }
    }
}

/// Writes `r`; returns whether the connection can serve another request.
async fn respond(sock: &mut TcpStream, r: &Scripted) -> bool {
    if r.silent {
        until_closed(sock).await;
        return false;
    }
    if !r.head_delay.is_zero() {
        tokio::time::sleep(r.head_delay).await;
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match r.framing {
        Framing::Chunked => head.push_str("transfer-encoding: chunked\r\n"),
        Framing::ContentLength => {
            let len: usize = r.chunks.iter().map(|c| c.bytes.len()).sum();
            head.push_str(&format!("content-length: {len}\r\n"));
        }
        Framing::Close => head.push_str("connection: close\r\n"),
    }
    head.push_str("\r\n");
    if sock.write_all(head.as_bytes()).await.is_err() || sock.flush().await.is_err() {
        return false;
    }
    for c in &r.chunks {
        if !c.delay.is_zero() {
            tokio::time::sleep(c.delay).await;
        }
        if c.bytes.is_empty() {
            continue;
        }
        let ok = if r.framing == Framing::Chunked {
            let mut frame = format!("{:x}\r\n", c.bytes.len()).into_bytes();
            frame.extend_from_slice(&c.bytes);
            frame.extend_from_slice(b"\r\n");
            sock.write_all(&frame).await.is_ok()
        } else {
            sock.write_all(&c.bytes).await.is_ok()
        };
        if !ok || sock.flush().await.is_err() {
            return false;
        }
    }
    match r.end {
        End::Complete => match r.framing {
            Framing::Chunked => sock.write_all(b"0\r\n\r\n").await.is_ok() && sock.flush().await.is_ok(),
            Framing::ContentLength => true,
            Framing::Close => {
                let _ = sock.shutdown().await;
                false
            }
        },
        End::Hang => {
            until_closed(sock).await;
            false
        }
        End::Cut => false,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
