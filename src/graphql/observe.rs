//! Watching GraphQL operations: [`begin`] and [`Watch::end`] time every operation
//! [`execute`](super::execute) runs, learn its name and outcome, log slow ones and report each
//! to the [`OperationSink`] of the HTTP request it belongs to. The HTTP layer opens that
//! request's [`Observation`] with [`scope`]; outside one (a schema executed directly) nothing
//! is recorded.
//!
//! This is not a schema extension on purpose: with any extension registered, async-graphql
//! runs every field through the extension chain, which cost about 8% of a listing's CPU.

use std::{
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use async_graphql::{
    Response, Value,
    parser::types::{DocumentOperations, ExecutableDocument},
};

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Answered without errors.
    Ok,
    /// Answered with at least one error (validation, resolver, timeout, internal).
    Error,
    /// Refused by the HTTP endpoint before the schema saw it (method, media type, body, size,
    /// credentials, parse or shape limits).
    Refused,
}

impl Outcome {
    /// The label value: `ok`, `error` or `refused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Refused => "refused",
        }
    }
}

/// One finished (or abandoned) operation, as reported to an [`OperationSink`].
#[derive(Debug)]
pub struct OperationRecord<'a> {
    /// The operation's name; `None` for an anonymous (or unknown) operation.
    pub name: Option<&'a str>,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it ran; `None` when it never ran (refused).
    pub duration: Option<Duration>,
    /// The `extensions.code` of each error in its response.
    pub codes: Vec<String>,
}

/// Where finished operations are recorded (the metrics registry).
pub trait OperationSink: Send + Sync {
    /// Records one operation.
    fn record(&self, operation: &OperationRecord<'_>);
}

/// What one HTTP request's operations did: each finished operation goes to the sink as it ends,
/// and the HTTP layer can ask afterwards whether any ran, or one was cut off mid-way (by the
/// request timeout or a panic).
pub struct Observation {
    sink: Arc<dyn OperationSink>,
    slow: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    finished: usize,
    running: Option<Running>,
}

/// An operation that started and has not finished.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Running {
    /// Its name, once the document is parsed (`None`: anonymous or not known yet).
    pub name: Option<String>,
}

impl Observation {
    /// A new observation reporting to `sink`, warning about operations slower than `slow`.
    pub fn new(sink: Arc<dyn OperationSink>, slow: Duration) -> Self {
        Self {
            sink,
            slow,
            state: Mutex::new(State::default()),
        }
    }

    /// How many operations ran to the end.
    pub fn finished(&self) -> usize {
        self.state().finished
    }

    /// The operation that started and never finished, if any.
    pub fn running(&self) -> Option<Running> {
        self.state().running.clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn start(&self) {
        self.state().running = Some(Running::default());
    }

    fn named(&self, name: Option<String>) {
        if let Some(running) = &mut self.state().running {
            running.name = name;
        }
    }

    fn finish(&self, response: &Response, duration: Duration) {
        let name = {
            let mut state = self.state();
            state.finished += 1;
            state.running.take().and_then(|r| r.name)
        };
        let outcome = if response.errors.is_empty() {
            Outcome::Ok
        } else {
            Outcome::Error
        };
        if duration > self.slow {
            tracing::warn!(
                operation = name.as_deref().unwrap_or("anonymous"),
                duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
                outcome = outcome.as_str(),
                "slow GraphQL operation"
            );
        }
        self.sink.record(&OperationRecord {
            name: name.as_deref(),
            outcome,
            duration: Some(duration),
            codes: error_codes(response),
        });
    }
}

tokio::task_local! {
    static OBSERVATION: Arc<Observation>;
}

/// Runs `fut` (an HTTP request's handling) with `observation` collecting its operations.
pub async fn scope<F: Future>(observation: Arc<Observation>, fut: F) -> F::Output {
    OBSERVATION.scope(observation, fut).await
}

fn current() -> Option<Arc<Observation>> {
    OBSERVATION.try_with(Arc::clone).ok()
}

/// The `extensions.code` of every error in `response`. An error without one gets the code the
/// HTTP endpoint will give it when it writes the response (`response_json` in
/// `http/graphql.rs`): a request error (nothing executed) is a validation failure, any other
/// error is internal.
fn error_codes(response: &Response) -> Vec<String> {
    let request_error = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    response
        .errors
        .iter()
        .map(
            |err| match err.extensions.as_ref().and_then(|ext| ext.get("code")) {
                Some(Value::String(code)) => code.clone(),
                Some(Value::Enum(code)) => code.to_string(),
                Some(_) => "UNKNOWN".to_owned(),
                None if request_error => "GRAPHQL_VALIDATION_FAILED".to_owned(),
                None => "INTERNAL".to_owned(),
            },
        )
        .collect()
}

/// The name of the operation `doc` runs for a request naming `requested`, as the schema will
/// choose it; `None` when it is anonymous or cannot be chosen (the schema reports that).
fn operation_name(doc: &ExecutableDocument, requested: Option<&str>) -> Option<String> {
    match (&doc.operations, requested) {
        (DocumentOperations::Single(_), _) => None,
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .keys()
            .find(|n| n.as_str() == name)
            .map(|n| n.to_string()),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.keys().next().map(|n| n.to_string())
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// One operation being timed for the current [`Observation`].
pub struct Watch {
    observation: Arc<Observation>,
    started: Instant,
}

/// Starts timing the operation of `doc` a request naming `requested` runs (`doc` is `None`
/// when it does not parse: the schema reports that). `None` outside an [`Observation`]. An
/// operation whose watch is dropped without [`Watch::end`] was cut off (timeout, panic).
pub fn begin(doc: Option<&ExecutableDocument>, requested: Option<&str>) -> Option<Watch> {
    let observation = current()?;
    observation.start();
    observation.named(doc.and_then(|doc| operation_name(doc, requested)));
    Some(Watch {
        observation,
        started: Instant::now(),
    })
}

impl Watch {
    /// Records the operation as answered with `response`.
    pub fn end(self, response: &Response) {
        self.observation.finish(response, self.started.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::operation_name;

    #[test]
    fn operation_names_follow_the_schema_choice() {
        let cases = [
            ("{ a }", None, None),
            ("{ a }", Some("Foo"), None),
            ("query Foo { a }", None, Some("Foo")),
            ("query Foo { a }", Some("Foo"), Some("Foo")),
            ("query Foo { a }", Some("Bar"), None),
            ("query Foo { a } query Bar { b }", Some("Bar"), Some("Bar")),
            ("query Foo { a } query Bar { b }", None, None),
        ];
        for (query, requested, expected) in cases {
            let doc = parse_query(query).unwrap_or_else(|e| panic!("{query}: {e}"));
            assert_eq!(
                operation_name(&doc, requested).as_deref(),
                expected,
                "{query} with {requested:?}"
            );
        }
    }
}
