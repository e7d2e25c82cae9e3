//! Runtime configuration: command-line flags, each with an environment variable.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

/// A preset for settings not given explicitly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Introspection and field suggestions on, text logs.
    Development,
    /// Introspection and field suggestions off, JSON logs.
    Production,
}

/// Settings shared by every subcommand. Every flag also reads the environment variable named
/// in its help, so a deployment can be configured without arguments.
#[derive(Clone, clap::Args)]
pub struct Config {
    /// Database URL (`postgres://…` or `sqlite://…`). Unset: an embedded SQLite database in
    /// `--data-dir`, loaded with the sample articles when it is first created.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// A read replica (`postgres://…`) for anonymous queries; mutations and requests made
    /// with a key use the primary.
    #[arg(long, env = "DATABASE_READ_URL", global = true, hide_env_values = true)]
    pub database_read_url: Option<String>,

    /// Folder of the embedded SQLite database used when DATABASE_URL is unset.
    #[arg(long, env = "DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Sample articles loaded into a newly created embedded database.
    #[arg(long, env = "SAMPLES_DIR", default_value = "samples", global = true)]
    pub samples_dir: PathBuf,

    /// Largest number of pooled database connections.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 10, global = true)]
    pub db_max_connections: u32,

    /// Address the HTTP server listens on.
    #[arg(
        long = "bind",
        env = "BIND_ADDR",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub bind_addr: SocketAddr,

    /// Seconds a request may take before it is answered with 408.
    #[arg(
        long,
        env = "REQUEST_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout_secs: u64,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Most operations in one batched POST.
    #[arg(long, env = "MAX_BATCH_SIZE", default_value_t = 10, global = true)]
    pub max_batch_size: usize,

    /// Deepest selection nesting a query may have.
    #[arg(long, env = "MAX_QUERY_DEPTH", default_value_t = 15, global = true)]
    pub max_query_depth: usize,

    /// Highest complexity (roughly, fields selected) a query may have.
    #[arg(
        long,
        env = "MAX_QUERY_COMPLEXITY",
        default_value_t = 2000,
        global = true
    )]
    pub max_query_complexity: usize,

    /// Longest query text, in bytes.
    #[arg(
        long,
        env = "MAX_QUERY_LENGTH",
        default_value_t = 16_384,
        global = true
    )]
    pub max_query_length: usize,

    /// Most lexical tokens in a query.
    #[arg(long, env = "MAX_QUERY_TOKENS", default_value_t = 4_000, global = true)]
    pub max_query_tokens: usize,

    /// Most aliased fields in an operation (fragments expanded).
    #[arg(long, env = "MAX_QUERY_ALIASES", default_value_t = 30, global = true)]
    pub max_query_aliases: usize,

    /// Most directives in an operation (fragments expanded).
    #[arg(
        long,
        env = "MAX_QUERY_DIRECTIVES",
        default_value_t = 50,
        global = true
    )]
    pub max_query_directives: usize,

    /// Most field selections in an operation once fragments are expanded (stops fragment bombs).
    #[arg(long, env = "MAX_QUERY_FIELDS", default_value_t = 5_000, global = true)]
    pub max_query_fields: usize,

    /// Largest article body (markdown), in bytes.
    #[arg(long, env = "MAX_ARTICLE_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_article_bytes: usize,

    /// `recordView` calls allowed per client address per minute.
    #[arg(
        long,
        env = "VIEW_RATE_PER_MINUTE",
        default_value_t = 120,
        global = true
    )]
    pub view_rate_per_minute: u32,

    /// Take the client address from `X-Forwarded-For` (set this only behind a proxy that
    /// overwrites that header); otherwise the peer address is used.
    #[arg(
        long,
        env = "TRUST_FORWARDED_FOR",
        default_value_t = false,
        global = true
    )]
    pub trust_forwarded_for: bool,

    /// Secret that signs preview tokens; every process behind one address needs the same one.
    /// Unset: a random secret per process (tokens die with it).
    #[arg(long, env = "PREVIEW_SECRET", global = true, hide_env_values = true)]
    pub preview_secret: Option<String>,

    /// Extra search dictionary: one term a line (jieba format), added to the built-in one.
    #[arg(long, env = "SEARCH_USER_DICT", global = true)]
    pub search_user_dict: Option<PathBuf>,

    /// Preset for introspection, field suggestions and log format.
    #[arg(long, env = "PROFILE", value_enum, default_value_t = Profile::Development, global = true)]
    pub profile: Profile,

    /// Answer introspection queries (default: on, off in the production profile).
    #[arg(long, env = "INTROSPECTION", global = true)]
    pub introspection: Option<bool>,

    /// Suggest field names in validation errors (default: on, off in the production profile).
    #[arg(long, env = "FIELD_SUGGESTIONS", global = true)]
    pub field_suggestions: Option<bool>,

    /// Log format (default: text, json in the production profile).
    #[arg(long, env = "LOG_FORMAT", value_enum, global = true)]
    pub log_format: Option<LogFormat>,

    /// GraphQL operations slower than this many milliseconds are logged as warnings.
    #[arg(long, env = "SLOW_OPERATION_MS", default_value_t = 500, global = true)]
    pub slow_operation_ms: u64,

    /// Seconds in-flight requests may take to finish after SIGTERM/SIGINT; the process exits
    /// when they are done or this has passed, whichever comes first.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 10, global = true)]
    pub shutdown_grace_secs: u64,

    /// Browser origins allowed to call the API (CORS), comma-separated
    /// (`https://app.example.com,https://admin.example.com`), or `*` for any. Unset: no CORS
    /// headers, so browsers allow same-origin calls only.
    #[arg(
        long,
        env = "CORS_ORIGINS",
        default_value = "",
        hide_default_value = true,
        global = true
    )]
    pub cors_origins: CorsOrigins,

    /// Automatic persisted queries kept in memory (least recently used are dropped).
    #[arg(long, env = "APQ_CACHE_SIZE", default_value_t = 1000, global = true)]
    pub apq_cache_size: usize,

    /// Bytes of anonymous query responses kept in memory and served until their `max-age` or
    /// the next change (0 turns the response cache off).
    #[arg(
        long,
        env = "RESPONSE_CACHE_BYTES",
        default_value_t = 32 * 1024 * 1024,
        global = true
    )]
    pub response_cache_bytes: usize,

    /// Seconds a WebSocket client has to send `connection_init` (then 4408).
    #[arg(
        long,
        env = "WS_INIT_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub ws_init_timeout_secs: u64,

    /// Most subscriptions running at once on one WebSocket connection.
    #[arg(
        long,
        env = "WS_MAX_SUBSCRIPTIONS",
        default_value_t = 20,
        global = true
    )]
    pub ws_max_subscriptions: usize,

    /// Largest WebSocket message accepted, in bytes.
    #[arg(long, env = "WS_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024, global = true)]
    pub ws_max_message_bytes: usize,

    /// Run the webhook delivery worker in this process (`on`/`off`). Turn it off in processes
    /// that should only serve requests; events are still recorded and another process delivers.
    #[arg(
        long,
        env = "WEBHOOK_WORKER",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new(),
        global = true
    )]
    pub webhook_worker: bool,

    /// Attempts per webhook delivery before it is marked failed.
    #[arg(long, env = "WEBHOOK_MAX_ATTEMPTS", default_value_t = 8, global = true)]
    pub webhook_max_attempts: u32,

    /// Seconds one webhook request may take before it counts as failed.
    #[arg(
        long,
        env = "WEBHOOK_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub webhook_timeout_secs: u64,

    /// Milliseconds between looks for due webhook deliveries.
    #[arg(
        long,
        env = "WEBHOOK_POLL_INTERVAL_MS",
        default_value_t = 1000,
        global = true
    )]
    pub webhook_poll_interval_ms: u64,

    /// Milliseconds before the first retry of a webhook delivery; each further retry waits
    /// twice as long, up to `WEBHOOK_BACKOFF_MAX_SECS`.
    #[arg(
        long,
        env = "WEBHOOK_BACKOFF_BASE_MS",
        default_value_t = 1000,
        global = true
    )]
    pub webhook_backoff_base_ms: u64,

    /// Longest wait between two attempts of a webhook delivery, in seconds.
    #[arg(
        long,
        env = "WEBHOOK_BACKOFF_MAX_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub webhook_backoff_max_secs: u64,

    /// Seconds a worker holds a claimed delivery; if it dies, another worker takes the delivery
    /// after this. Raised to at least the request timeout plus one second.
    #[arg(long, env = "WEBHOOK_LEASE_SECS", default_value_t = 60, global = true)]
    pub webhook_lease_secs: u64,
}

/// The browser origins allowed by CORS: a comma-separated list; blank entries are ignored,
/// so an empty `CORS_ORIGINS` means none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsOrigins(pub Vec<CorsOrigin>);

impl std::str::FromStr for CorsOrigins {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// One entry of `CORS_ORIGINS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigin {
    /// `*`: any origin.
    Any,
    /// One origin, normalised to `scheme://host[:port]`.
    Exact(String),
}

impl std::str::FromStr for CorsOrigin {
    type Err = String;

    /// Accepts `*` or an origin (`https://example.com`, `http://localhost:3000`; a trailing `/`
    /// is tolerated); anything with a path, query, credentials or no host is refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s == "*" {
            return Ok(Self::Any);
        }
        let refuse = || format!("`{s}` is not an origin like `https://example.com` (or `*`)");
        let url = url::Url::parse(s).map_err(|_| refuse())?;
        let origin = url.origin();
        let has_extras = !url.username().is_empty()
            || url.password().is_some()
            || !matches!(url.path(), "" | "/")
            || url.query().is_some()
            || url.fragment().is_some();
        if !origin.is_tuple() || has_extras || !matches!(url.scheme(), "http" | "https") {
            return Err(refuse());
        }
        Ok(Self::Exact(origin.ascii_serialization()))
    }
}

impl Config {
    /// The built-in defaults, ignoring the environment (tests start from these).
    pub fn defaults() -> Self {
        Self {
            database_url: None,
            database_read_url: None,
            data_dir: PathBuf::from("data"),
            samples_dir: PathBuf::from("samples"),
            db_max_connections: 10,
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
            request_timeout_secs: 30,
            max_body_bytes: 2 * 1024 * 1024,
            max_batch_size: 10,
            max_query_depth: 15,
            max_query_complexity: 2000,
            max_query_length: 16_384,
            max_query_tokens: 4_000,
            max_query_aliases: 30,
            max_query_directives: 50,
            max_query_fields: 5_000,
            max_article_bytes: 1024 * 1024,
            view_rate_per_minute: 120,
            trust_forwarded_for: false,
            preview_secret: None,
            search_user_dict: None,
            profile: Profile::Development,
            introspection: None,
            field_suggestions: None,
            log_format: None,
            slow_operation_ms: 500,
            shutdown_grace_secs: 10,
            cors_origins: CorsOrigins::default(),
            apq_cache_size: 1000,
            response_cache_bytes: 32 * 1024 * 1024,
            ws_init_timeout_secs: 10,
            ws_max_subscriptions: 20,
            ws_max_message_bytes: 64 * 1024,
            webhook_worker: true,
            webhook_max_attempts: 8,
            webhook_timeout_secs: 10,
            webhook_poll_interval_ms: 1000,
            webhook_backoff_base_ms: 1000,
            webhook_backoff_max_secs: 3600,
            webhook_lease_secs: 60,
        }
    }

    fn production(&self) -> bool {
        self.profile == Profile::Production
    }

    /// Whether introspection is answered.
    pub fn introspection_enabled(&self) -> bool {
        self.introspection.unwrap_or(!self.production())
    }

    /// Whether validation errors suggest field names.
    pub fn suggestions_enabled(&self) -> bool {
        self.field_suggestions.unwrap_or(!self.production())
    }

    /// The log format in effect.
    pub fn effective_log_format(&self) -> LogFormat {
        self.log_format.unwrap_or(if self.production() {
            LogFormat::Json
        } else {
            LogFormat::Text
        })
    }

    /// The request timeout as a `Duration`.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// The duration above which an operation is logged as slow.
    pub fn slow_operation(&self) -> Duration {
        Duration::from_millis(self.slow_operation_ms)
    }

    /// How long in-flight requests may take to finish once shutdown starts.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// The database to use, and whether it is the embedded default (which is seeded with the
    /// samples when new).
    pub fn database(&self) -> DatabaseChoice {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => DatabaseChoice::Url(url.clone()),
            _ => DatabaseChoice::Embedded(self.data_dir.join("content.db")),
        }
    }
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseChoice {
    /// A database named by URL.
    Url(String),
    /// The embedded SQLite file.
    Embedded(PathBuf),
}

#[cfg(test)]
mod tests {
    use super::{CorsOrigin, CorsOrigins};

    #[test]
    fn cors_origins_parse_to_their_serialization_and_refuse_non_origins() {
        let cases = [
            ("*", Some(CorsOrigin::Any)),
            (
                "https://example.com",
                Some(CorsOrigin::Exact("https://example.com".into())),
            ),
            (
                " HTTPS://Example.COM/ ",
                Some(CorsOrigin::Exact("https://example.com".into())),
            ),
            (
                "http://localhost:3000",
                Some(CorsOrigin::Exact("http://localhost:3000".into())),
            ),
            (
                "https://example.com:443",
                Some(CorsOrigin::Exact("https://example.com".into())),
            ),
            ("example.com", None),
            ("https://example.com/app", None),
            ("https://user@example.com", None),
            ("https://example.com?x=1", None),
            ("file:///etc/passwd", None),
            ("ftp://example.com", None),
            ("", None),
            ("**", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                input.parse::<CorsOrigin>().ok(),
                expected,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn cors_origin_lists_skip_blank_entries_and_refuse_bad_ones() {
        assert_eq!("".parse::<CorsOrigins>(), Ok(CorsOrigins::default()));
        assert_eq!(
            "https://a.example, ,http://localhost:3000,".parse::<CorsOrigins>(),
            Ok(CorsOrigins(vec![
                CorsOrigin::Exact("https://a.example".into()),
                CorsOrigin::Exact("http://localhost:3000".into()),
            ]))
        );
        assert!("https://a.example,nope".parse::<CorsOrigins>().is_err());
    }
}
