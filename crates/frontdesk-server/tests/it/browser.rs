//! Real-browser test helper: headless Chromium driven through chromedriver with a
//! minimal W3C WebDriver client (reqwest + serde_json only).
//!
//! Requires the Debian packages `chromium` and `chromium-driver`
//! (`/usr/bin/chromium`, `/usr/bin/chromedriver`). When the driver is missing,
//! [`Browser::start`] returns `Ok(None)` (test should return early) unless `CI=true`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// JS prelude: finds an element by CSS inside the widget's (open) shadow root, else in the document.
const FIND_JS: &str = "const __host = document.querySelector('[data-frontdesk-root]');\
    const __find = (css) => (__host && __host.shadowRoot && __host.shadowRoot.querySelector(css)) || document.querySelector(css);";

pub struct Browser {
    driver: Child,
    port: u16,
    session_id: String,
    http: reqwest::Client,
    // Keeps the Chromium profile (and chromedriver log) alive for the session's lifetime.
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless Chromium session.
    /// Returns Ok(None) when /usr/bin/chromedriver is absent AND the env var CI is not "true"
    /// (prints a loud "SKIPPED: browser test, chromium-driver not installed" to stderr); when CI=true a missing driver is an error.
    pub async fn start() -> anyhow::Result<Option<Browser>> {
        if !Path::new(CHROMEDRIVER).exists() {
            if std::env::var("CI").as_deref() == Ok("true") {
                bail!("{CHROMEDRIVER} not found but CI=true: install the `chromium` and `chromium-driver` packages");
            }
            eprintln!("\n************************************************************");
            eprintln!("SKIPPED: browser test, chromium-driver not installed ({CHROMEDRIVER})");
            eprintln!("************************************************************\n");
            return Ok(None);
        }

        let profile = tempfile::Builder::new().prefix("frontdesk-chromium-").tempdir()?;
        let user_data_dir = profile.path().join("profile");
        std::fs::create_dir_all(&user_data_dir)?;
        let log_path = profile.path().join("chromedriver.log");
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();

        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("spawning {CHROMEDRIVER}"))?;
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build()?;
        // From here on, Drop cleans up the driver even if we fail.
        let mut browser = Browser { driver, port, session_id: String::new(), http, profile };

        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = browser.http.get(browser.url("/status")).send().await;
            if let Ok(resp) = ready {
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                if body["value"]["ready"].as_bool() == Some(true) {
                    break;
                }
            }
            if let Some(status) = browser.driver.try_wait()? {
                bail!("chromedriver exited early ({status}); log:\n{}", browser.driver_log());
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not become ready on port {port}; log:\n{}", browser.driver_log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": "normal",
                // The browser's console (CSP violations among it), read by `console_log`.
                "goog:loggingPrefs": { "browser": "ALL" },
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless=new",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--disable-quic",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--window-size=1280,900",
                        format!("--user-data-dir={}", user_data_dir.display()),
                    ],
                },
            }},
        });
        let value = browser
            .command(reqwest::Method::POST, "/session", Some(caps))
            .await
            .map_err(|e| anyhow!("{e:#}\nchromedriver log:\n{}", browser.driver_log()))?;
        browser.session_id = value["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("new session response without sessionId: {value}"))?
            .to_owned();
        Ok(Some(browser))
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.session_cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await
            .with_context(|| format!("navigating to {url}"))?;
        Ok(())
    }

    /// Runs `script` as a function body (use `return`); `args` must be a JSON array (or null).
    pub async fn execute(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        let args = if args.is_null() { json!([]) } else { args };
        self.session_cmd(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": args }))).await
    }

    /// Like [`execute`](Self::execute) but the script signals completion by calling
    /// `arguments[arguments.length - 1](result)`.
    pub async fn execute_async(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        let args = if args.is_null() { json!([]) } else { args };
        self.session_cmd(reqwest::Method::POST, "/execute/async", Some(json!({ "script": script, "args": args }))).await
    }

    /// Clicks the first element matching `css`, looking inside the widget's shadow root first.
    /// Waits up to 5 s for the element to exist.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let script =
            format!("{FIND_JS} const el = __find(arguments[0]); if (!el) return false; el.click(); return true;");
        self.retry_on_element(css, &script, json!([css])).await
    }

    /// Sets the value of the input/textarea matching `css` (shadow root first) and fires `input`.
    /// Waits up to 5 s for the element to exist.
    pub async fn type_text(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let script = format!(
            "{FIND_JS} const el = __find(arguments[0]); if (!el) return false; el.focus(); el.value = arguments[1];\
             el.dispatchEvent(new Event('input', {{ bubbles: true, composed: true }})); return true;"
        );
        self.retry_on_element(css, &script, json!([css, text])).await
    }

    /// Polls the JS expression `js_condition` until it evaluates to a truthy value and returns it.
    /// Script errors while polling (e.g. the widget not loaded yet) count as "not yet".
    pub async fn wait_for(&self, js_condition: &str, timeout: Duration) -> anyhow::Result<Value> {
        let script = format!("{FIND_JS} return ({js_condition});");
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.execute(&script, json!([])).await {
                Ok(v) if truthy(&v) => return Ok(v),
                Ok(v) => format!("last value: {v}"),
                Err(e) => format!("last error: {e:#}"),
            };
            if Instant::now() >= deadline {
                bail!("timed out after {timeout:?} waiting for `{js_condition}` ({last})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn screenshot_png(&self) -> anyhow::Result<Vec<u8>> {
        let value = self.session_cmd(reqwest::Method::GET, "/screenshot", None).await?;
        let b64 = value.as_str().ok_or_else(|| anyhow!("screenshot value is not a string"))?;
        base64_decode(b64)
    }

    /// The browser console's entries since the last call (Chromium reports a
    /// Content-Security-Policy violation there as an error), as "LEVEL message".
    pub async fn console_log(&self) -> anyhow::Result<Vec<String>> {
        let value = self.session_cmd(reqwest::Method::POST, "/se/log", Some(json!({ "type": "browser" }))).await?;
        Ok(value
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| format!("{} {}", e["level"].as_str().unwrap_or("?"), e["message"].as_str().unwrap_or("")))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Ends the browser session and stops chromedriver (also done, best effort, on drop).
    pub async fn quit(mut self) -> anyhow::Result<()> {
        if !self.session_id.is_empty() {
            let _ = self.session_cmd(reqwest::Method::DELETE, "", None).await;
            self.session_id.clear();
        }
        Ok(())
    }

    // ------------------------------------------------------------------ internals

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    fn driver_log(&self) -> String {
        let log = std::fs::read_to_string(self.profile.path().join("chromedriver.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    async fn session_cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let path = format!("/session/{}{}", self.session_id, path);
        self.command(method, &path, body).await
    }

    /// Sends one WebDriver command and returns the response's `value`.
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut req = self.http.request(method.clone(), self.url(path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.with_context(|| format!("webdriver {method} {path}"))?;
        let status = resp.status();
        let text = resp.text().await?;
        let body: Value = serde_json::from_str(&text)
            .with_context(|| format!("webdriver {method} {path}: non-JSON response ({status}): {text}"))?;
        let value = body.get("value").cloned().unwrap_or(Value::Null);
        if !status.is_success() {
            bail!(
                "webdriver {method} {path} failed ({status}): {}: {}",
                value["error"].as_str().unwrap_or("unknown error"),
                value["message"].as_str().unwrap_or(&text)
            );
        }
        Ok(value)
    }

    async fn retry_on_element(&self, css: &str, script: &str, args: Value) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if self.execute(script, args.clone()).await? == Value::Bool(true) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("no element matches `{css}` (searched widget shadow root and document)");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ask chromedriver to close Chromium (otherwise killing the driver orphans the browser).
        // Drop cannot await, so speak plain HTTP/1.1 over a blocking socket with short timeouts.
        if !self.session_id.is_empty() {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
            if let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
                let req = format!(
                    "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    self.session_id, self.port
                );
                if s.write_all(req.as_bytes()).is_ok() {
                    let mut sink = Vec::new();
                    let _ = s.read_to_end(&mut sink);
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn base64_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let clean: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c).ok_or_else(|| anyhow!("invalid base64 byte {c:#x}"))? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => bail!("truncated base64 input"),
        }
    }
    Ok(out)
}

/// Loads {base_url}/demo, opens the widget, sends `question`, and waits (up to 15 s) until an agent message appears whose text contains `expect_in_answer`; also asserts the header shows `agent_name` and "Powered by AI". Returns the agent message text.
pub async fn widget_conversation(
    browser: &Browser,
    base_url: &str,
    agent_name: &str,
    question: &str,
    expect_in_answer: &str,
) -> anyhow::Result<String> {
    let base = base_url.trim_end_matches('/');
    browser.goto(&format!("{base}/demo")).await?;
    browser
        .wait_for("!!(window.FrontdeskWidget && __host && __host.shadowRoot)", Duration::from_secs(10))
        .await
        .context("widget script did not load on the demo page")?;

    // Header: agent name (config loaded) and the AI disclosure line.
    let name_js = serde_json::to_string(agent_name)?;
    browser
        .wait_for(
            &format!("((__find('[data-fd=\"agent-name\"]') || {{}}).textContent || '').trim() === {name_js}"),
            Duration::from_secs(10),
        )
        .await
        .with_context(|| format!("widget header never showed agent name {agent_name:?}"))?;
    let powered = browser
        .execute(
            &format!("{FIND_JS} const p = __find('[data-fd=\"powered-by-ai\"]'); return p ? p.textContent : null;"),
            json!([]),
        )
        .await?;
    anyhow::ensure!(
        powered.as_str().is_some_and(|t| t.contains("Powered by AI")),
        "widget header does not show \"Powered by AI\" (got {powered})"
    );

    // Open the panel the way a visitor would, then type and send.
    browser.click("[data-fd=\"launcher\"]").await?;
    browser
        .wait_for("!__find('[data-fd=\"panel\"]').hidden", Duration::from_secs(5))
        .await
        .context("chat panel did not open")?;
    // Newest message id already shown (a resumed conversation has history), so an answer to
    // an earlier identical question is never mistaken for this one.
    let before = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             window.FrontdeskWidget.ready.then(() => done(Math.max(0, ...window.FrontdeskWidget.messages().map(m => m.id || 0))));",
            json!([]),
        )
        .await?
        .as_i64()
        .unwrap_or(0);
    browser.type_text("[data-fd=\"input\"]", question).await?;
    browser.click("[data-fd=\"send\"]").await?;

    let cond = format!(
        "(() => {{ const ms = window.FrontdeskWidget.messages(); const q = {q};\
           const qi = ms.findIndex(m => m.author === 'visitor' && m.id > {before} && m.text === q.trim());\
           if (qi < 0) return null;\
           const a = ms.slice(qi + 1).find(m => m.author === 'agent' && m.id > {before} && m.text.includes({e}));\
           return a ? a.text : null; }})()",
        q = serde_json::to_string(question)?,
        e = serde_json::to_string(expect_in_answer)?,
    );
    match browser.wait_for(&cond, Duration::from_secs(15)).await {
        Ok(Value::String(text)) => Ok(text),
        Ok(other) => bail!("unexpected agent message value: {other}"),
        Err(e) => {
            let shown = browser
                .execute("return window.FrontdeskWidget.messages();", json!([]))
                .await
                .unwrap_or_else(|err| json!(format!("<could not read messages: {err:#}>")));
            Err(e.context(format!(
                "no agent answer containing {expect_in_answer:?} after asking {question:?}; messages shown: {shown}"
            )))
        }
    }
}
