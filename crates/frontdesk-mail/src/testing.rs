//! Real mail servers on loopback for integration tests (feature `testing`): Dovecot
//! (IMAP with STARTTLS, IMAPS) and an aiosmtpd sink (SMTP with STARTTLS, SMTPS), started
//! by `scripts/mail-servers.sh` in a private temporary folder.
//!
//! ```no_run
//! # async fn t() {
//! use frontdesk_mail::testing::MailServers;
//! use frontdesk_mail::ImapTls;
//! let Some(servers) = MailServers::start() else { return }; // SKIP printed
//! servers.deliver(b"From: a@example.test\r\nSubject: hi\r\n\r\nhello\r\n");
//! let (mails, _cursor) =
//!     frontdesk_mail::fetch_new(&servers.imap_config(ImapTls::Tls), None, 10).await.unwrap();
//! assert_eq!(mails.len(), 1);
//! # }
//! ```
//!
//! Without Dovecot or aiosmtpd (and no root to install them), [`MailServers::start`]
//! prints a loud SKIP and returns None; with `CI=true` it panics instead, so CI cannot
//! pass by skipping. The servers are stopped when the value is dropped (also while a
//! test panics), and a watchdog stops them if the test process dies without unwinding.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::{ImapConfig, ImapTls, SmtpConfig, SmtpSecurity};

/// The script, built into the crate so it is found wherever the test binary runs.
const SCRIPT: &str = include_str!("../../../scripts/mail-servers.sh");

/// The account on the test Dovecot (IMAP login and SMTP AUTH).
pub const TEST_USER: &str = "support@example.test";
/// Its password.
pub const TEST_PASSWORD: &str = "password";

/// A message the SMTP sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// MAIL FROM (empty for the null sender).
    pub from: String,
    /// RCPT TO, in order.
    pub to: Vec<String>,
    /// The DATA, byte for byte (without the final dot line).
    pub raw: Vec<u8>,
}

/// How to start the servers.
#[derive(Debug, Clone, Default)]
pub struct MailServersOptions {
    /// The SMTP sink refuses mail without AUTH (530). Off: AUTH offered and checked
    /// when a client uses it, not required.
    pub smtp_auth_required: bool,
    /// Dovecot does not announce IDLE, so clients fall back to polling.
    pub imap_without_idle: bool,
}

/// Why the servers could not start.
#[derive(Debug)]
pub enum StartError {
    /// Dovecot, doveadm, openssl, bash, Python or aiosmtpd is missing and could not be
    /// installed here.
    Missing(String),
    /// They are there but did not start.
    Failed(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Missing(m) => write!(f, "missing software: {m}"),
            StartError::Failed(m) => write!(f, "mail servers did not start: {m}"),
        }
    }
}

/// Running Dovecot + SMTP sink; stopped on drop.
#[derive(Debug)]
pub struct MailServers {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    script: PathBuf,
    /// IMAP, plain with STARTTLS.
    pub imap_port: u16,
    /// IMAP over implicit TLS.
    pub imaps_port: u16,
    /// SMTP, plain with STARTTLS (AUTH allowed without TLS).
    pub smtp_port: u16,
    /// SMTP over implicit TLS.
    pub smtps_port: u16,
    /// The PEM of the self-signed certificate both servers use (CN localhost, IP 127.0.0.1).
    pub cert_file: PathBuf,
    deliveries: AtomicUsize,
}

impl MailServers {
    /// Starts both servers; None (after a loud SKIP on the terminal) when the software is
    /// missing. Panics when `CI=true` and they cannot start, or when they are installed
    /// but fail to start.
    pub fn start() -> Option<MailServers> {
        Self::start_with(MailServersOptions::default())
    }

    /// [`MailServers::start`] with options.
    pub fn start_with(options: MailServersOptions) -> Option<MailServers> {
        match Self::try_start(options) {
            Ok(servers) => Some(servers),
            Err(StartError::Missing(what)) if !in_ci() => {
                skip_banner(&what);
                None
            }
            Err(StartError::Missing(what)) => panic!(
                "CI=true but the test mail servers cannot run: missing {what}. \
                 scripts/mail-servers.sh installs dovecot-imapd (apt-get) and aiosmtpd (pip) \
                 when run as root."
            ),
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts both servers, or says why not.
    pub fn try_start(options: MailServersOptions) -> Result<MailServers, StartError> {
        let dir = temp_dir().map_err(|e| StartError::Failed(format!("temporary folder: {e}")))?;
        let path = dir.path().to_path_buf();
        let script = path.join("mail-servers.sh");
        std::fs::write(&script, SCRIPT)
            .map_err(|e| StartError::Failed(format!("writing {}: {e}", script.display())))?;
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755));
        }

        let output = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(&path)
            .env("MAIL_SERVERS_OWNER_PID", std::process::id().to_string())
            .env("MAIL_SERVERS_REMOVE_DIR", if keep_dir() { "0" } else { "1" })
            .env("SMTP_AUTH_REQUIRED", if options.smtp_auth_required { "1" } else { "0" })
            .env("IMAP_NO_IDLE", if options.imap_without_idle { "1" } else { "0" })
            .output();
        let output = match output {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StartError::Missing("bash".into())),
            Err(e) => return Err(StartError::Failed(format!("running the script: {e}"))),
        };
        let mut servers = MailServers {
            dir: Some(dir),
            path: path.clone(),
            script,
            imap_port: 0,
            imaps_port: 0,
            smtp_port: 0,
            smtps_port: 0,
            cert_file: path.join("cert.pem"),
            deliveries: AtomicUsize::new(0),
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
            // Drop stops whatever did start.
            return Err(if output.status.code() == Some(3) {
                StartError::Missing(stderr.replace("mail-servers: MISSING: ", ""))
            } else {
                StartError::Failed(format!("{}\n{stderr}", output.status))
            });
        }
        let env = std::fs::read_to_string(path.join("ports.env"))
            .map_err(|e| StartError::Failed(format!("reading ports.env: {e}")))?;
        let port = |key: &str| -> Result<u16, StartError> {
            env.lines()
                .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| StartError::Failed(format!("no {key} in ports.env:\n{env}")))
        };
        servers.imap_port = port("IMAP_PORT")?;
        servers.imaps_port = port("IMAPS_PORT")?;
        servers.smtp_port = port("SMTP_PORT")?;
        servers.smtps_port = port("SMTPS_PORT")?;
        for p in [servers.imap_port, servers.imaps_port, servers.smtp_port, servers.smtps_port] {
            wait_for_port(p, Duration::from_secs(10)).map_err(StartError::Failed)?;
        }
        Ok(servers)
    }

    /// The private folder of this instance (config, logs, Maildir, `smtp-out/`).
    pub fn dir(&self) -> &Path {
        &self.path
    }

    /// IMAP settings for the test account: 127.0.0.1, the port of `tls`, self-signed
    /// certificate accepted, 10 s steps.
    pub fn imap_config(&self, tls: ImapTls) -> ImapConfig {
        ImapConfig {
            host: "127.0.0.1".into(),
            port: match tls {
                ImapTls::Tls => self.imaps_port,
                ImapTls::StartTls | ImapTls::Plain => self.imap_port,
            },
            tls,
            username: TEST_USER.into(),
            password: TEST_PASSWORD.into(),
            mailbox: "INBOX".into(),
            accept_invalid_certs: true,
            timeout_secs: 10,
            addresses: Vec::new(),
        }
    }

    /// SMTP settings for the sink: 127.0.0.1, the port of `security`, the test account's
    /// credentials when `auth`, self-signed certificate accepted, 10 s.
    pub fn smtp_config(&self, security: SmtpSecurity, auth: bool) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: match security {
                SmtpSecurity::Tls => self.smtps_port,
                SmtpSecurity::StartTls | SmtpSecurity::Plain => self.smtp_port,
            },
            security,
            username: auth.then(|| TEST_USER.into()),
            password: auth.then(|| TEST_PASSWORD.into()),
            accept_invalid_certs: true,
            timeout_secs: 10,
            addresses: Vec::new(),
        }
    }

    /// Puts a message into the INBOX through Dovecot (`doveadm save`): it has its UID
    /// when this returns, and IDLE sessions are notified. Panics on failure.
    pub fn deliver(&self, raw: &[u8]) {
        let n = self.deliveries.fetch_add(1, Ordering::SeqCst);
        let file = self.path.join(format!("deliver-{n:06}.eml"));
        std::fs::write(&file, raw).expect("writing the message to deliver");
        let output = self.script(&["deliver", &self.path_str(), &file.to_string_lossy()]);
        let _ = std::fs::remove_file(&file);
        assert!(
            output.status.success(),
            "delivering into Dovecot failed: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Puts many messages into the INBOX at once by writing them straight into the
    /// Maildir (`tmp/` then rename into `new/`, as any delivery agent does): thousands in
    /// a second, where [`MailServers::deliver`] costs a process per message. Dovecot
    /// assigns their UIDs, in this order, at the next SELECT.
    pub fn deliver_many<M: AsRef<[u8]>>(&self, messages: &[M]) {
        use std::os::unix::fs::MetadataExt;
        let maildir = self.path.join("mail/support/Maildir");
        let owner = std::fs::metadata(&maildir).expect("the test Maildir exists");
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        for (i, raw) in messages.iter().enumerate() {
            let n = self.deliveries.fetch_add(1, Ordering::SeqCst);
            let name =
                format!("{}.M{}P{}Q{n}I{i}.frontdesk-test", stamp.as_secs(), stamp.subsec_micros(), std::process::id());
            let tmp = maildir.join("tmp").join(&name);
            std::fs::write(&tmp, raw.as_ref()).expect("writing into Maildir/tmp");
            // As root the mailbox belongs to an unprivileged user: give the file to it.
            let _ = std::os::unix::fs::chown(&tmp, Some(owner.uid()), Some(owner.gid()));
            std::fs::rename(&tmp, maildir.join("new").join(&name)).expect("Maildir tmp -> new");
        }
    }

    /// Everything the SMTP sink has accepted so far, in order.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        let out = self.path.join("smtp-out");
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter_map(|n| n.strip_suffix(".env").map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .into_iter()
            .filter_map(|name| {
                let envelope = std::fs::read_to_string(out.join(format!("{name}.env"))).ok()?;
                let raw = std::fs::read(out.join(format!("{name}.eml"))).ok()?;
                let mut lines = envelope.lines();
                let from = lines.next().unwrap_or_default().to_owned();
                let to = lines.filter(|l| !l.is_empty()).map(str::to_owned).collect();
                Some(SentMessage { from, to, raw })
            })
            .collect()
    }

    /// UIDs in the INBOX carrying `\Seen`, asked of Dovecot itself (doveadm), not over IMAP.
    pub fn seen_uids(&self) -> Vec<u32> {
        self.doveadm_search("SEEN")
    }

    /// UIDs in the INBOX matching a doveadm search query (`ALL`, `SEEN`, `UNSEEN`, …).
    pub fn doveadm_search(&self, query: &str) -> Vec<u32> {
        let mut args = vec![
            "doveadm",
            self.path.to_str().expect("utf-8 temp path"),
            "search",
            "-u",
            TEST_USER,
            "mailbox",
            "INBOX",
        ];
        args.extend(query.split_whitespace());
        let output = self.script(&args);
        assert!(output.status.success(), "doveadm search failed: {}", String::from_utf8_lossy(&output.stderr));
        let mut uids: Vec<u32> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.split_whitespace().nth(1)?.parse().ok())
            .collect();
        uids.sort_unstable();
        uids
    }

    /// Stops both servers now (also done on drop).
    pub fn stop(&mut self) {
        if self.dir.is_some() {
            let _ = self.script(&["stop", &self.path_str()]);
        }
    }

    fn path_str(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    fn script(&self, args: &[&str]) -> Output {
        Command::new("bash").arg(&self.script).args(args).output().expect("running scripts/mail-servers.sh")
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        self.stop();
        if keep_dir() {
            if let Some(dir) = self.dir.take() {
                let kept = dir.keep();
                let _ = writeln!(std::io::stderr(), "mail servers folder kept: {}", kept.display());
            }
        }
        // Otherwise TempDir's own drop removes the folder.
    }
}

/// `FRONTDESK_KEEP_MAIL_SERVERS_DIR=1` keeps each instance's folder (logs, Maildir,
/// smtp-out) for a look after the test.
fn keep_dir() -> bool {
    std::env::var_os("FRONTDESK_KEEP_MAIL_SERVERS_DIR").is_some_and(|v| !v.is_empty() && v != "0")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Written straight to stderr: the test harness captures `eprintln!`, not this.
fn skip_banner(what: &str) {
    let line = "#".repeat(72);
    let _ = writeln!(
        std::io::stderr(),
        "\n{line}\n  SKIP: no test mail servers ({what}).\n  \
         Install the Debian package dovecot-imapd and `pip install aiosmtpd`,\n  \
         or run scripts/mail-servers.sh as root once to install them.\n{line}\n"
    );
}

/// A fresh folder with a short path: Dovecot's unix sockets live under it (108-byte limit).
fn temp_dir() -> std::io::Result<tempfile::TempDir> {
    let base = std::env::temp_dir();
    let base = if base.as_os_str().len() <= 24 { base } else { PathBuf::from("/tmp") };
    tempfile::Builder::new().prefix("fdmail-").tempdir_in(base)
}

fn wait_for_port(port: u16, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("port {port} did not accept connections"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
