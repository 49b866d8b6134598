//! Typed configuration, read once at start from flags and environment variables.

use anyhow::anyhow;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The environment variable that may hold the key for secrets at rest (base64, 32 bytes).
/// Only from the environment: a flag would show in the process list.
pub const SECRET_KEY_ENV: &str = "ITSM_BRIDGE_SECRET_KEY";

#[derive(Clone, Debug, Parser)]
#[command(
    name = "itsm-bridge",
    version,
    about = "Turns failing scan findings into ServiceNow incidents, without duplicates."
)]
pub struct Config {
    /// The SQLite database: a file path or a `sqlite:` URL. The server creates it with its
    /// folder on first start; the other commands need it to exist already.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "data/itsm-bridge.db",
        value_parser = parse_database_url
    )]
    pub database_url: String,

    /// The address and port to listen on.
    #[arg(
        long,
        global = true,
        env = "LEPTOS_SITE_ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub listen: SocketAddr,

    /// The folder holding the built site (`pkg/` with the WebAssembly, JavaScript and CSS).
    #[arg(long, global = true, env = "LEPTOS_SITE_ROOT", default_value = crate::site::DEFAULT_SITE_ROOT)]
    pub site_root: PathBuf,

    /// The file holding the key that encrypts secrets at rest. Created (mode 0600) on first
    /// start. Default: beside the database, with the extension `.key`. Ignored when
    /// ITSM_BRIDGE_SECRET_KEY is set.
    #[arg(long, global = true, env = "ITSM_BRIDGE_KEY_FILE")]
    pub key_file: Option<PathBuf>,

    /// The public URL of this site when it is served behind a reverse proxy that changes
    /// the Host header: `http://` or `https://`, a host and maybe a port, no path, e.g.
    /// https://itsm.example.com. Form posts are accepted from it as well as from the address
    /// the browser sent the request to.
    #[arg(long, global = true, env = "ITSM_BRIDGE_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// When the session cookie carries `Secure`: `auto` (when the request came over https,
    /// directly or as X-Forwarded-Proto says), `always` (behind a TLS-terminating proxy that
    /// does not say so), or `never`.
    #[arg(long, global = true, env = "ITSM_BRIDGE_SECURE_COOKIES", value_enum, default_value_t = CookieSecurity::Auto)]
    pub secure_cookies: CookieSecurity,

    /// A session ends after this many minutes without a request (1 to 1440).
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_SESSION_IDLE_MINUTES",
        default_value_t = 30,
        value_parser = clap::value_parser!(u32).range(1..=1440)
    )]
    pub session_idle_minutes: u32,

    /// A session ends this many hours after sign-in, whatever happens (1 to 720).
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_SESSION_MAX_HOURS",
        default_value_t = 12,
        value_parser = clap::value_parser!(u32).range(1..=720)
    )]
    pub session_max_hours: u32,

    /// A PEM file of CA certificates to trust for the ServiceNow instance, besides the
    /// system's (a private CA, or the simulator's self-signed certificate).
    #[arg(long, global = true, env = "ITSM_BRIDGE_SERVICENOW_CA_FILE")]
    pub servicenow_ca_file: Option<PathBuf>,

    /// The most requests per second sent to ServiceNow (1 to 10000).
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_SERVICENOW_REQUESTS_PER_SECOND",
        default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..=10_000)
    )]
    pub servicenow_requests_per_second: u32,

    /// The most requests sent to ServiceNow in any sliding hour, for instances with an
    /// hourly rate-limit rule. Off by default. Work that would exceed it is put off until
    /// the budget allows, instead of being refused by the instance.
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_SERVICENOW_REQUESTS_PER_HOUR",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub servicenow_requests_per_hour: Option<u32>,

    /// How long a ServiceNow request may take, in seconds (1 to 600).
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_SERVICENOW_TIMEOUT_SECONDS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=600)
    )]
    pub servicenow_timeout_seconds: u64,

    /// The largest scan body accepted, in bytes (default 256 MiB; 1024 to 64 GiB).
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_MAX_SCAN_BYTES",
        default_value_t = 256 * 1024 * 1024,
        value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024 * 1024)
    )]
    pub max_scan_bytes: u64,

    /// How many scans of each source are kept; older ones are deleted (1 to 1000: the latest
    /// scan is what the engine reads).
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_SCANS_KEPT_PER_SOURCE",
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..=1000)
    )]
    pub scans_kept_per_source: u32,

    /// Do not start engine runs on the schedule; Run now and `run-once` still work (for a
    /// second replica, or when runs are started by an outside scheduler).
    #[arg(long, global = true, env = "ITSM_BRIDGE_NO_SCHEDULER")]
    pub no_scheduler: bool,

    /// How long the engine's lease lasts unless renewed, in seconds (renewed every third of
    /// it). A process that dies holding it blocks runs of other processes this long at most.
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_ENGINE_LEASE_SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub engine_lease_seconds: u64,

    /// Engine runs older than this many days are deleted.
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_RUNS_KEPT_DAYS",
        default_value_t = 90,
        value_parser = clap::value_parser!(u32).range(1..=3650)
    )]
    pub runs_kept_days: u32,

    /// Log format.
    #[arg(long, global = true, env = "ITSM_BRIDGE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// The header a trusted reverse proxy sets with the client's address, e.g.
    /// X-Forwarded-For; its right-most entry (the one the proxy appended) is the client for
    /// the sign-in throttle, the audit log and the logs. Unset: the socket's peer address,
    /// and the header is ignored (any client could send it).
    #[arg(long, global = true, env = "ITSM_BRIDGE_TRUSTED_PROXY_HEADER", value_parser = parse_header_name)]
    pub trusted_proxy_header: Option<http::HeaderName>,

    /// Audit log entries older than this many days are deleted.
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_AUDIT_KEPT_DAYS",
        default_value_t = 365,
        value_parser = clap::value_parser!(u32).range(1..=36500)
    )]
    pub audit_kept_days: u32,

    /// How many scan uploads are received at once, their chunks taking turns for the
    /// database; one more is answered 503 with Retry-After.
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_MAX_QUEUED_SCANS",
        default_value_t = 16,
        value_parser = clap::value_parser!(u32).range(1..=1000)
    )]
    pub max_queued_scans: u32,

    /// How long a client may take to send a request's headers, in seconds.
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_HEADER_READ_TIMEOUT_SECONDS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub header_read_timeout_seconds: u64,

    /// How long a request body may stall (no bytes arriving while the server waits for
    /// them) before it is cut off, in seconds; a stalled scan upload gets 408 and nothing
    /// of it is kept.
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_BODY_READ_TIMEOUT_SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub body_read_timeout_seconds: u64,

    /// The least average rate a request body must come at, in bytes per second of waiting
    /// for it, once the server has waited longer than the body read timeout in all; a scan
    /// upload that trickles slower gets 408 and nothing of it is kept. 0 turns it off.
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_MIN_BODY_BYTES_PER_SECOND",
        default_value_t = 1024,
        value_parser = clap::value_parser!(u64).range(0..=1_000_000_000)
    )]
    pub min_body_bytes_per_second: u64,

    /// At shutdown (SIGTERM, Ctrl+C), how long requests under way may take to finish, in
    /// seconds; then their connections are dropped (an upload cut off keeps nothing).
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_SHUTDOWN_GRACE_SECONDS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub shutdown_grace_seconds: u64,

    /// The most connections served at once, in all; past it the server accepts no more
    /// until one ends (newcomers wait in the system's queue). Each holds a file descriptor.
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_MAX_CONNECTIONS",
        default_value_t = 512,
        value_parser = clap::value_parser!(u32).range(1..=100_000)
    )]
    pub max_connections: u32,

    /// The most connections served at once from one client network (an IPv4 address or an
    /// IPv6 /64, the socket's); one more is answered 503 and closed.
    #[arg(
        long,
        global = true,
        env = "ITSM_BRIDGE_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 64,
        value_parser = clap::value_parser!(u32).range(1..=100_000)
    )]
    pub max_connections_per_client: u32,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// The key for secrets at rest, from ITSM_BRIDGE_SECRET_KEY.
    #[arg(skip)]
    pub secret_key: Option<SecretString>,
}

#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// Stores a scan result file, as the scanner API would, in an existing database (the
    /// server creates it). The size limit and the scans kept per source are those of the
    /// global --max-scan-bytes and --scans-kept-per-source (or their variables), as for the
    /// server, e.g. `itsm-bridge ingest --source s scan.json --max-scan-bytes 1073741824`.
    Ingest {
        /// The source the scan belongs to, e.g. prowler-aws-123456789012; taken from the
        /// file when left out (its account, cluster or artifact; a file that does not say
        /// which is refused).
        #[arg(long)]
        source: Option<String>,
        /// native, ocsf or trivy; told from the file when left out.
        #[arg(long)]
        format: Option<String>,
        /// The file to read (`-` for standard input).
        file: PathBuf,
    },
    /// Runs the ticket engine once against the configured instance and prints its counts;
    /// exits 0 only when the run succeeded.
    RunOnce,
    /// Administer the admin accounts and the database (backups).
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
    /// A demonstration on this machine: starts a ServiceNow simulator, a server on a database
    /// of its own (never the configured one) connected to it, ingests sample scans, runs the
    /// engine, and prints where to look and a sign-in made for it. Ctrl+C ends it.
    Demo {
        /// The folder for the demo's database and key (created; must hold no database).
        /// Default: a new temporary folder, deleted when the demo ends.
        #[arg(long)]
        folder: Option<PathBuf>,
    },
}

#[derive(Clone, Debug, Subcommand)]
pub enum AdminCommand {
    /// Sets a new password for USER and ends USER's sessions and sign-in slow-down. On a
    /// terminal it asks for the password twice, without echo; otherwise it reads one line
    /// of standard input.
    ResetPassword {
        /// The user name of the admin account, as typed at sign-in (e.g. admin).
        user: String,
    },
    /// Writes a consistent copy of the database to FILE (a new file, readable by its owner
    /// only), also while the server runs. Keep the key file with the backups: the secrets in
    /// a backup open only with it.
    Backup {
        /// The backup file to create, e.g. /var/backups/itsm-bridge-2026-11-30.db.
        file: PathBuf,
    },
    /// Puts the backup FILE in place of the database, keeping the one it replaces (renamed
    /// with a timestamp). Stop the server first. The next engine run looks up every ticket it
    /// would open by correlation_id first, so tickets opened after the backup are adopted.
    Restore {
        /// The backup file, as `admin backup` wrote it.
        file: PathBuf,
    },
}

/// The database file a `--database-url` names: a path or a `sqlite:` URL. Any other scheme
/// (`postgres://…`) is refused rather than taken for a folder name.
pub fn database_file(url: &str) -> Result<PathBuf, String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if let Some((scheme, _)) = rest.split_once("://")
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Err(format!(
            "{url:?} is a {scheme}:// URL; itsm-bridge keeps its data in SQLite only: give a \
             file path (data/itsm-bridge.db) or a sqlite: URL"
        ));
    }
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(format!(
            "{url:?} names no file; itsm-bridge keeps its data in a SQLite file, e.g. \
             data/itsm-bridge.db"
        ));
    }
    Ok(PathBuf::from(path))
}

fn parse_database_url(raw: &str) -> Result<String, String> {
    database_file(raw).map(|_| raw.to_string())
}

/// A public URL the site can be reached at: http or https, a host, no path, query,
/// fragment or credentials (an origin is all the cross-site check compares).
pub fn parse_public_url(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{raw:?}: the public URL must start with https:// or http://, not {}://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{raw:?} names no host"));
    }
    if url.path() != "/" {
        return Err(format!(
            "{raw:?} has a path ({}); the site is served at the root of its host only",
            url.path()
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "{raw:?}: give only the scheme, host and port (no query, fragment or user)"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

fn parse_header_name(raw: &str) -> Result<http::HeaderName, String> {
    http::HeaderName::from_bytes(raw.trim().as_bytes())
        .map_err(|_| format!("{raw:?} is not an HTTP header name"))
}

/// Clap names the flag in a bad value's error even when the value came from the flag's
/// environment variable; then the variable is named instead (with the flag beside it).
fn error_naming_the_variable(error: clap::Error, args: &[std::ffi::OsString]) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return error;
    }
    let Some(ContextValue::String(shown)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    let shown = shown.clone();
    let command = Config::command();
    let Some(arg) = command.get_arguments().find(|arg| {
        arg.get_long()
            .is_some_and(|long| shown.starts_with(&format!("--{long}")))
    }) else {
        return error;
    };
    let (Some(long), Some(variable)) = (arg.get_long(), arg.get_env()) else {
        return error;
    };
    let flag = format!("--{long}");
    let typed = args.iter().skip(1).any(|a| {
        let a = a.to_string_lossy();
        a == flag || a.starts_with(&format!("{flag}="))
    });
    if typed || std::env::var_os(variable).is_none() {
        return error;
    }
    let variable = variable.to_string_lossy();
    let message = error
        .render()
        .to_string()
        .replacen(
            &format!("'{shown}'"),
            &format!("the environment variable {variable} (of {flag})"),
            1,
        )
        .trim_start_matches("error: ")
        .to_string();
    let message = message
        .split("\n\nFor more information")
        .next()
        .unwrap_or_default()
        .to_string();
    Config::command().error(error.kind(), message)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CookieSecurity {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// A configuration with every default and the given database; for tests and tools.
    /// The environment is not read: a `DATABASE_URL` or `ITSM_BRIDGE_…` set in the shell
    /// that runs the tests must not change what they test.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        #[allow(clippy::expect_used)] // The defaults are constants; a bad one is a bug here.
        let mut config =
            Config::from_flags_only(["itsm-bridge"]).expect("the defaults are valid flags");
        config.database_url = database_url.into();
        config
    }

    /// Parses `args` as the command line would, with the environment variables beside the
    /// flags ignored: only the flags and the defaults count.
    pub fn from_flags_only<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Config::command()
            .mut_args(|arg| arg.env(None))
            .try_get_matches_from(args)?;
        Config::from_arg_matches(&matches)
    }

    /// Takes the secret key from the environment, where only it may come from. Set but
    /// empty is kept as it is, for `SecretCipher::load` to refuse.
    pub fn with_environment_secrets(mut self) -> Self {
        self.secret_key = std::env::var(SECRET_KEY_ENV).ok().map(SecretString::from);
        self
    }

    /// Reads the command line and the environment; on a bad value prints clap's error
    /// and exits. A value that came from an environment variable is named by that
    /// variable, not by the flag the user never typed.
    pub fn load() -> Self {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        // The program's entry point: the one place that reads the environment.
        let parsed = Config::try_parse_from(&args); // entry point
        let config = match parsed {
            Ok(config) => config.with_environment_secrets(),
            Err(error) => error_naming_the_variable(error, &args).exit(),
        };
        // Refused before any command looks at a file: falling back to the key file would
        // seal new secrets under another key.
        if config
            .secret_key
            .as_ref()
            .is_some_and(|key| key.expose_secret().trim().is_empty())
        {
            eprintln!(
                "error: {SECRET_KEY_ENV} is set but empty: set it to the key (base64 of 32 \
                 bytes, `openssl rand -base64 32`), or unset it to use the key file"
            );
            std::process::exit(2);
        }
        config
    }

    /// The database file named by `database_url`.
    pub fn database_path(&self) -> anyhow::Result<PathBuf> {
        database_file(&self.database_url).map_err(|reason| anyhow!("The database URL {reason}"))
    }

    /// The setup-token file, beside the database.
    pub fn setup_token_path(&self) -> anyhow::Result<PathBuf> {
        Ok(self.database_path()?.with_extension("setup-token"))
    }

    /// The folder of the database file, where ingestion sets aside what it cannot finish yet
    /// (on the database's disk, not in `$TMPDIR`, often a tmpfs held in memory).
    pub fn database_folder(&self) -> anyhow::Result<PathBuf> {
        let path = self.database_path()?;
        Ok(match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
            _ => PathBuf::from("."),
        })
    }

    /// The key file: the configured one, or the database's path with `.key`.
    pub fn key_file_path(&self) -> anyhow::Result<PathBuf> {
        match &self.key_file {
            Some(path) => Ok(path.clone()),
            None => Ok(self.database_path()?.with_extension("key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_defaults_to_data_itsm_bridge_db() {
        let config = Config::from_flags_only(["itsm-bridge"]).unwrap();
        assert_eq!(
            config.database_path().unwrap(),
            PathBuf::from("data/itsm-bridge.db")
        );
        assert_eq!(
            config.key_file_path().unwrap(),
            PathBuf::from("data/itsm-bridge.key")
        );
    }

    #[test]
    fn a_sqlite_url_or_a_plain_path_names_the_file() {
        for (url, path) in [
            ("sqlite://var/lib/x.db", "var/lib/x.db"),
            ("sqlite:x.db?mode=rwc", "x.db"),
            ("sqlite:///abs/x.db", "/abs/x.db"),
            ("/abs/y.sqlite", "/abs/y.sqlite"),
        ] {
            assert_eq!(
                Config::with_database(url).database_path().unwrap(),
                PathBuf::from(path)
            );
        }
    }

    #[test]
    fn an_in_memory_database_is_refused_with_a_reason() {
        let err = Config::with_database("sqlite::memory:")
            .database_path()
            .unwrap_err();
        assert!(err.to_string().contains("names no file"));
    }

    #[test]
    fn the_hourly_request_budget_is_off_unless_set_and_never_zero() {
        assert_eq!(
            Config::from_flags_only(["itsm-bridge"])
                .unwrap()
                .servicenow_requests_per_hour,
            None
        );
        let config =
            Config::from_flags_only(["itsm-bridge", "--servicenow-requests-per-hour", "500"])
                .unwrap();
        assert_eq!(config.servicenow_requests_per_hour, Some(500));
        assert!(
            Config::from_flags_only(["itsm-bridge", "--servicenow-requests-per-hour", "0"])
                .is_err()
        );
    }

    #[test]
    fn the_trusted_proxy_header_is_off_unless_named() {
        let config = Config::from_flags_only(["itsm-bridge"]).unwrap();
        assert_eq!(config.trusted_proxy_header, None);
        assert_eq!(config.audit_kept_days, 365);
        let config =
            Config::from_flags_only(["itsm-bridge", "--trusted-proxy-header", "X-Forwarded-For"])
                .unwrap();
        assert_eq!(
            config
                .trusted_proxy_header
                .map(|h| h.to_string())
                .as_deref(),
            Some("x-forwarded-for")
        );
        assert!(
            Config::from_flags_only(["itsm-bridge", "--trusted-proxy-header", "bad header"])
                .is_err()
        );
    }

    #[test]
    fn the_database_flag_is_read() {
        let config =
            Config::from_flags_only(["itsm-bridge", "--database-url", "other.db"]).unwrap();
        assert_eq!(config.database_path().unwrap(), PathBuf::from("other.db"));
    }

    /// Every `Config` a test, a unit test or a bench makes comes from
    /// [`Config::from_flags_only`] or [`Config::with_database`]: clap's own parsers read
    /// the `ITSM_BRIDGE_…` variables of the shell that runs them. Only `main.rs` may.
    #[test]
    fn no_test_parses_the_configuration_with_the_environment() {
        let crate_root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        // Spelt in two halves so that this file does not find itself.
        let readers = [
            concat!("parse", "_from("),
            concat!("Config::", "parse()"),
            concat!("Config::", "try_parse()"),
        ];
        let mut found = Vec::new();
        let mut folders = vec![
            crate_root.join("src"),
            crate_root.join("tests"),
            crate_root.join("benches"),
        ];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && path != crate_root.join("src/main.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (number, line) in text.lines().enumerate() {
                        if readers.iter().any(|reader| line.contains(reader))
                            && !line.ends_with("// entry point")
                        {
                            found.push(format!("{}:{}", path.display(), number + 1));
                        }
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "these read the shell's environment; use Config::from_flags_only: {found:?}"
        );
    }

    /// Settings a developer's shell might hold; none may reach a test's configuration.
    const SHELL: &[(&str, &str)] = &[
        ("DATABASE_URL", "sqlite:/nonexistent/shell.db"),
        ("LEPTOS_SITE_ADDR", "0.0.0.0:9999"),
        ("ITSM_BRIDGE_PUBLIC_URL", "https://shell.example"),
        ("ITSM_BRIDGE_SECURE_COOKIES", "always"),
        ("ITSM_BRIDGE_SESSION_IDLE_MINUTES", "1"),
        ("ITSM_BRIDGE_MAX_SCAN_BYTES", "10"),
        ("ITSM_BRIDGE_NO_SCHEDULER", "true"),
        ("ITSM_BRIDGE_KEY_FILE", "/nonexistent/shell.key"),
    ];

    /// Run by the next test in a child process whose environment holds [`SHELL`]; it fails
    /// when run without it, so it cannot pass by finding nothing to ignore.
    #[test]
    #[ignore = "run in a child process by the_test_configuration_ignores_the_shell"]
    fn with_database_in_a_shell_full_of_settings() {
        for (name, value) in SHELL {
            assert_eq!(
                std::env::var(name).as_deref(),
                Ok(*value),
                "{name} is not set"
            );
        }
        let config = Config::with_database("test.db");
        assert_eq!(config.database_url, "test.db");
        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(config.public_url, None);
        assert_eq!(config.secure_cookies, CookieSecurity::Auto);
        assert_eq!(config.session_idle_minutes, 30);
        assert_eq!(config.max_scan_bytes, 256 * 1024 * 1024);
        assert!(!config.no_scheduler);
        assert_eq!(config.key_file, None);
    }

    #[test]
    fn the_test_configuration_ignores_the_shell() {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "configuration::tests::with_database_in_a_shell_full_of_settings",
                "--ignored",
                "--nocapture",
            ])
            .envs(SHELL.iter().copied())
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(report.contains("1 passed"), "{report}");
        assert!(
            output.status.success(),
            "{report}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
