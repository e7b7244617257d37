//! Process settings. Loaded by the binary from a TOML file, overridden by
//! `FRONTDESK_*` environment variables, overridden by flags.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port.
    pub listen: String,
    /// Where the SQLite file and other local data live.
    pub data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; empty means a SQLite file in `data_dir`.
    pub database_url: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest uploaded file, in bytes (B2).
    pub max_upload_bytes: usize,
    /// Let outbound connections made for users (the crawler, actions, channel
    /// webhooks, the Graph API, IMAP/SMTP) reach private, loopback and
    /// link-local addresses (off: refused, by the network guard).
    pub allow_private_networks: bool,
    /// Let email channels' IMAP/SMTP hosts be private or loopback addresses (a
    /// local mail relay) without opening the other connections to private networks.
    pub allow_private_mail_servers: bool,
    /// Reverse proxies in front of the server (IP addresses or CIDR networks,
    /// such as `10.0.0.0/8`): when the socket peer is one of them, the client's
    /// address (which the login throttle counts) is read from `X-Forwarded-For`.
    /// Empty: the peer is the client and the header is ignored.
    pub trusted_proxies: Vec<String>,
    /// Pages fetched at once per crawl, and the pause between requests to one host (ms).
    pub crawl_concurrency: usize,
    pub crawl_delay_ms: u64,
    /// Largest page the crawler reads, in bytes.
    pub crawl_max_page_bytes: usize,
    /// Use dense vectors when the embedding model is in `models_dir` (`scripts/fetch-models.sh`).
    pub embeddings: bool,
    pub models_dir: PathBuf,
    /// Which embedder: `auto` (multilingual-e5-small when installed, else
    /// all-MiniLM-L6-v2, else none), `multilingual-e5-small`, `all-MiniLM-L6-v2`,
    /// `none` (BM25 only) or `openai` (the endpoint below).
    pub embedding_model: String,
    /// `openai`: base URL of an OpenAI-compatible embeddings server (`…/v1`; its
    /// `/embeddings` is called).
    pub embedding_url: String,
    /// `openai`: bearer key (empty: none sent).
    pub embedding_api_key: String,
    /// `openai`: the model id named in requests.
    pub embedding_model_name: String,
    /// `openai`: the vector size (0: learnt from a probe at start).
    pub embedding_dimensions: usize,
    /// `openai`: longest an embeddings request may take, in milliseconds.
    pub embedding_timeout_ms: u64,
    /// `openai`: text put before queries and before passages, for models trained with
    /// prefixes (e5 served remotely: `"query: "` and `"passage: "`). Empty by default.
    pub embedding_query_prefix: String,
    pub embedding_passage_prefix: String,
    /// Whether session cookies are marked `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// How long a console session lasts, in hours.
    pub session_hours: i64,
    /// Run the background job worker in this process.
    pub run_worker: bool,
    /// How often the worker looks for due jobs, in milliseconds.
    pub worker_poll_ms: u64,
    /// Jobs of the fast lane one process runs at once (deliveries to
    /// channels, a turn's follow-ups, sweeps, reports).
    pub worker_concurrency: usize,
    /// Jobs of the slow lane (syncs, crawls, embedding) one process runs at
    /// once: apart from the fast lane's, so ingestion never delays a reply.
    pub worker_slow_concurrency: usize,
    /// Longest a fast-lane job may run, in seconds, before it is stopped and
    /// retried (or dead after its attempts).
    pub job_timeout_fast_secs: u64,
    /// Longest a slow-lane job may run, in seconds (a sync, a crawl batch).
    pub job_timeout_slow_secs: u64,
    /// On SIGTERM, how long running jobs may take to finish, in seconds,
    /// before they are handed back to the queue; the process exits within
    /// about this long.
    pub shutdown_grace_secs: u64,
    /// A running job's lease, in milliseconds; renewed while it runs, so a job
    /// of a process that died is taken over after at most this long.
    pub job_lease_ms: i64,
    /// How often the inactivity sweep is scheduled, in seconds.
    pub sweep_interval_secs: u64,
    /// Score a short answer must reach to be used, from 0 to 1.
    pub answer_threshold: f32,
    /// Base URL of an OpenAI-compatible speech-to-text server (`…/v1`; its
    /// `/audio/transcriptions` is called); empty: media files wait for one (B2).
    pub transcription_url: String,
    /// Bearer key for the transcription server (empty: none sent).
    pub transcription_api_key: String,
    /// The model named in transcription requests.
    pub transcription_model: String,
    /// Longest a transcription request (and each ffmpeg run) may take, in seconds.
    pub transcription_timeout_secs: u64,
    /// The ffmpeg program that extracts a media file's audio.
    pub ffmpeg_path: String,
    /// The binary that extracts files' text in a child process (`frontdesk`, which
    /// has the hidden extract subcommand); empty: this binary when it is `frontdesk`,
    /// else in-process under the wall-clock limit only.
    pub extract_command: String,
    /// CPU seconds, wall-clock seconds and memory (MB) one file's extraction may use;
    /// beyond them the file's source fails naming the limit.
    pub extract_cpu_seconds: u64,
    pub extract_timeout_seconds: u64,
    pub extract_memory_mb: u64,
    /// Characters of a file's text that are indexed; the rest is cut, and the
    /// source says so ("indexed the first N characters of M").
    pub extract_max_text_chars: usize,
    /// Base URL of an OpenAI-compatible chat-completions server (`…/v1`);
    /// empty: the built-in responder answers (no AI service needed, K1).
    pub llm_url: String,
    /// Bearer key for the LLM server (empty: none sent).
    pub llm_api_key: String,
    /// The model named in requests (empty: the server's default).
    pub llm_model: String,
    /// Longest wait for the model's first token, in milliseconds.
    pub llm_first_token_timeout_ms: u64,
    /// Longest silence inside a streamed reply, in milliseconds.
    pub llm_idle_timeout_ms: u64,
    /// Longest a whole reply (every model call and tool) may take, in milliseconds.
    pub llm_timeout_ms: u64,
    /// Most model calls per reply (tool steps), so a model cannot loop.
    pub llm_max_tool_steps: u64,
    /// Longest answer, in tokens.
    pub llm_max_tokens: u64,
    /// When the model fails or times out: `fallback` (the built-in responder
    /// answers) or `handoff` (the conversation goes to humans).
    pub llm_on_failure: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            max_body_bytes: 256 * 1024,
            max_upload_bytes: 50 * 1024 * 1024,
            allow_private_networks: false,
            allow_private_mail_servers: false,
            trusted_proxies: Vec::new(),
            embeddings: true,
            models_dir: PathBuf::from("./models"),
            embedding_model: "auto".into(),
            embedding_url: String::new(),
            embedding_api_key: String::new(),
            embedding_model_name: String::new(),
            embedding_dimensions: 0,
            embedding_timeout_ms: 30_000,
            embedding_query_prefix: String::new(),
            embedding_passage_prefix: String::new(),
            crawl_concurrency: 4,
            crawl_delay_ms: 100,
            crawl_max_page_bytes: 2 * 1024 * 1024,
            secure_cookies: false,
            session_hours: 24 * 7,
            run_worker: true,
            worker_poll_ms: 500,
            worker_concurrency: 4,
            worker_slow_concurrency: 2,
            job_timeout_fast_secs: 120,
            job_timeout_slow_secs: 900,
            shutdown_grace_secs: 10,
            sweep_interval_secs: 60,
            job_lease_ms: 60_000,
            answer_threshold: frontdesk_core::responder::ShortAnswerResponder::DEFAULT_THRESHOLD,
            transcription_url: String::new(),
            transcription_api_key: String::new(),
            transcription_model: "whisper-1".into(),
            transcription_timeout_secs: 600,
            ffmpeg_path: "ffmpeg".into(),
            extract_command: String::new(),
            extract_cpu_seconds: 60,
            extract_timeout_seconds: 120,
            extract_memory_mb: 2048,
            extract_max_text_chars: 5_000_000,
            llm_url: String::new(),
            llm_api_key: String::new(),
            llm_model: String::new(),
            llm_first_token_timeout_ms: 30_000,
            llm_idle_timeout_ms: 15_000,
            llm_timeout_ms: 90_000,
            llm_max_tool_steps: 4,
            llm_max_tokens: 1024,
            llm_on_failure: "fallback".into(),
        }
    }
}

impl Settings {
    /// Whether email channels' IMAP/SMTP servers may be private addresses.
    pub fn private_mail_servers(&self) -> bool {
        self.allow_private_networks || self.allow_private_mail_servers
    }

    /// The `trusted_proxies` networks; an error names the setting and the bad entry.
    pub fn trusted_proxy_networks(&self) -> anyhow::Result<Vec<frontdesk_core::proxies::IpNet>> {
        frontdesk_core::proxies::parse_networks(self.trusted_proxies.as_slice())
            .map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))
    }

    /// The database URL to use: the configured one, or a SQLite file in the data dir.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.trim().is_empty() {
            format!("sqlite://{}", self.data_dir.join("frontdesk.db").display())
        } else {
            self.database_url.clone()
        }
    }
}

impl Settings {
    /// What `frontdesk_embed::load_embedder` needs; `embeddings = false` means none.
    pub fn embedder_config(&self) -> anyhow::Result<frontdesk_embed::EmbedderConfig> {
        let choice: frontdesk_embed::EmbedderChoice =
            if self.embeddings { self.embedding_model.parse()? } else { frontdesk_embed::EmbedderChoice::None };
        Ok(frontdesk_embed::EmbedderConfig {
            choice,
            models_dir: self.models_dir.clone(),
            url: self.embedding_url.trim().to_owned(),
            api_key: self.embedding_api_key.clone(),
            remote_model: self.embedding_model_name.trim().to_owned(),
            dimensions: self.embedding_dimensions,
            timeout: std::time::Duration::from_millis(self.embedding_timeout_ms.max(1)),
            query_prefix: self.embedding_query_prefix.clone(),
            passage_prefix: self.embedding_passage_prefix.clone(),
        })
    }

    /// The LLM responder's settings, or `None` when no endpoint is configured.
    pub fn llm(&self) -> anyhow::Result<Option<frontdesk_llm::LlmConfig>> {
        if self.llm_url.trim().is_empty() {
            return Ok(None);
        }
        let on_failure = match self.llm_on_failure.trim() {
            "fallback" | "" => frontdesk_llm::FailurePolicy::Fallback,
            "handoff" => frontdesk_llm::FailurePolicy::Handoff,
            other => anyhow::bail!("llm_on_failure must be fallback or handoff, not {other:?}"),
        };
        Ok(Some(frontdesk_llm::LlmConfig {
            base_url: self.llm_url.trim().to_owned(),
            api_key: Some(self.llm_api_key.clone()).filter(|k| !k.trim().is_empty()),
            model: self.llm_model.clone(),
            first_token_timeout_ms: self.llm_first_token_timeout_ms,
            idle_timeout_ms: self.llm_idle_timeout_ms,
            total_timeout_ms: self.llm_timeout_ms,
            max_tool_steps: (self.llm_max_tool_steps as usize).clamp(1, 16),
            max_tokens: Some(self.llm_max_tokens.clamp(16, 32_768) as u32),
            on_failure,
            ..frontdesk_llm::LlmConfig::default()
        }))
    }

    /// Settings from an optional TOML text, then `FRONTDESK_<FIELD>`
    /// variables from `env` (each parsed as its field's type). Flags are
    /// applied by the caller on the result.
    pub fn layered(
        toml_text: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Settings> {
        let base: Settings = match toml_text {
            Some(t) => toml::from_str(t).map_err(|e| anyhow::anyhow!("the settings file is invalid: {e}"))?,
            None => Settings::default(),
        };
        let mut table = match toml::Value::try_from(&base)? {
            toml::Value::Table(t) => t,
            _ => anyhow::bail!("settings did not serialise to a table"),
        };
        for (key, raw) in env {
            let Some(field) = key.strip_prefix("FRONTDESK_").map(str::to_lowercase) else { continue };
            let Some(current) = table.get(&field) else {
                continue; // Other FRONTDESK_* variables (e.g. test settings) are not ours.
            };
            let value = match current {
                toml::Value::Integer(_) => toml::Value::Integer(
                    raw.trim().parse().map_err(|_| anyhow::anyhow!("{key} must be a whole number, got {raw:?}"))?,
                ),
                toml::Value::Float(_) => toml::Value::Float(
                    raw.trim().parse().map_err(|_| anyhow::anyhow!("{key} must be a number, got {raw:?}"))?,
                ),
                toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim().to_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => true,
                    "0" | "false" | "no" | "off" => false,
                    _ => anyhow::bail!("{key} must be true or false, got {raw:?}"),
                }),
                // Lists: comma- or space-separated (`10.0.0.0/8, 192.168.1.5`).
                toml::Value::Array(_) => toml::Value::Array(
                    raw.split(|c: char| c == ',' || c.is_whitespace())
                        .filter(|s| !s.is_empty())
                        .map(|s| toml::Value::String(s.to_owned()))
                        .collect(),
                ),
                _ => toml::Value::String(raw),
            };
            table.insert(field, value);
        }
        let settings: Settings = toml::Value::Table(table).try_into()?;
        settings.trusted_proxy_networks()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let s = Settings::layered(
            Some("listen = \"0.0.0.0:9000\"\nsession_hours = 2\n"),
            [
                ("FRONTDESK_SESSION_HOURS".to_owned(), "5".to_owned()),
                ("FRONTDESK_SECURE_COOKIES".into(), "on".into()),
                ("HOME".into(), "/x".into()),
            ],
        )
        .unwrap();
        assert_eq!(s.listen, "0.0.0.0:9000");
        assert_eq!(s.session_hours, 5);
        assert!(s.secure_cookies);
    }

    #[test]
    fn bad_values_are_named() {
        let e = Settings::layered(None, [("FRONTDESK_SESSION_HOURS".to_owned(), "soon".to_owned())]).unwrap_err();
        assert!(e.to_string().contains("FRONTDESK_SESSION_HOURS"));
        let e = Settings::layered(Some("listn = 1"), []).unwrap_err();
        assert!(e.to_string().contains("listn"), "{e}");
    }

    #[test]
    fn transcription_settings_from_the_environment() {
        let s = Settings::default();
        assert!(s.transcription_url.is_empty());
        assert_eq!((s.transcription_model.as_str(), s.transcription_timeout_secs), ("whisper-1", 600));
        let s = Settings::layered(
            Some("transcription_model = \"large-v3\"\n"),
            [
                ("FRONTDESK_TRANSCRIPTION_URL".to_owned(), "http://stt:8000/v1".to_owned()),
                ("FRONTDESK_TRANSCRIPTION_TIMEOUT_SECS".into(), "30".into()),
                ("FRONTDESK_FFMPEG_PATH".into(), "/opt/ffmpeg/bin/ffmpeg".into()),
            ],
        )
        .unwrap();
        assert_eq!(s.transcription_url, "http://stt:8000/v1");
        assert_eq!(s.transcription_model, "large-v3");
        assert_eq!(s.transcription_timeout_secs, 30);
        assert_eq!(s.ffmpeg_path, "/opt/ffmpeg/bin/ffmpeg");
    }

    #[test]
    fn embedding_settings() {
        use frontdesk_embed::EmbedderChoice;
        let c = Settings::default().embedder_config().unwrap();
        assert_eq!(c.choice, EmbedderChoice::Auto);
        let s = Settings::layered(
            Some("embedding_model = \"openai\"\nembedding_query_prefix = \"query: \"\n"),
            [
                ("FRONTDESK_EMBEDDING_URL".to_owned(), "http://emb:8000/v1".to_owned()),
                ("FRONTDESK_EMBEDDING_MODEL_NAME".into(), "intfloat/multilingual-e5-small".into()),
                ("FRONTDESK_EMBEDDING_DIMENSIONS".into(), "384".into()),
            ],
        )
        .unwrap();
        let c = s.embedder_config().unwrap();
        assert_eq!(c.choice, EmbedderChoice::OpenAi);
        assert_eq!(
            (c.url.as_str(), c.remote_model.as_str(), c.dimensions),
            ("http://emb:8000/v1", "intfloat/multilingual-e5-small", 384)
        );
        assert_eq!((c.query_prefix.as_str(), c.passage_prefix.as_str()), ("query: ", ""));
        let off = Settings { embeddings: false, ..s.clone() };
        assert_eq!(off.embedder_config().unwrap().choice, EmbedderChoice::None);
        let bad = Settings { embedding_model: "bert".into(), ..s };
        assert!(bad.embedder_config().unwrap_err().to_string().contains("embedding_model"));
    }

    #[test]
    fn trusted_proxies_from_the_file_and_the_environment() {
        assert!(Settings::default().trusted_proxies.is_empty());
        let s = Settings::layered(Some("trusted_proxies = [\"10.0.0.0/8\", \"fd00::/8\"]\n"), []).unwrap();
        let nets = s.trusted_proxy_networks().unwrap();
        assert_eq!(nets.iter().map(ToString::to_string).collect::<Vec<_>>(), ["10.0.0.0/8", "fd00::/8"]);
        let s = Settings::layered(
            None,
            [("FRONTDESK_TRUSTED_PROXIES".to_owned(), "10.0.0.0/8, 192.168.1.5 ::1".to_owned())],
        )
        .unwrap();
        assert_eq!(s.trusted_proxies, ["10.0.0.0/8", "192.168.1.5", "::1"]);
        let s = Settings::layered(None, [("FRONTDESK_TRUSTED_PROXIES".to_owned(), " ".to_owned())]).unwrap();
        assert!(s.trusted_proxies.is_empty());
        // A bad network is refused at load, naming the setting and the entry.
        let e = Settings::layered(Some("trusted_proxies = [\"10.0.0.0/33\"]\n"), []).unwrap_err().to_string();
        assert!(e.contains("trusted_proxies") && e.contains("10.0.0.0/33"), "{e}");
        let e = Settings::layered(None, [("FRONTDESK_TRUSTED_PROXIES".to_owned(), "proxy.internal".to_owned())])
            .unwrap_err()
            .to_string();
        assert!(e.contains("trusted_proxies") && e.contains("proxy.internal"), "{e}");
    }

    #[test]
    fn sqlite_in_the_data_dir_by_default() {
        let s = Settings { data_dir: "/tmp/fd".into(), ..Settings::default() };
        assert_eq!(s.effective_database_url(), "sqlite:///tmp/fd/frontdesk.db");
    }
}
