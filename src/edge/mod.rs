//! The HTTP edge, shared by both faces (the JSON API and the console): what every request meets
//! before a route (request id and its log line, metrics, the time and head-size limits, framework
//! errors rewritten as problem+json), the extractors that turn a request's parts into typed
//! values or a 4xx naming the part (caller, context, JSON bodies, queries, `If-Match`, feed
//! cursors, `Last-Event-ID`), and the framing of event streams. Handlers stay thin because the
//! edge has done this; the domain never sees a request.
//!
//! Not here: the console's own guard (`console::guard`: its cookie becomes the caller, its
//! pages get their security headers) and the FHIR routes' OperationOutcome rewriting
//! (`api::fhir::edge`), each the concern of one face.

pub mod caller;
pub mod context;
pub mod feed;
pub mod if_match;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod problem;
pub mod query;
pub mod request_id;
pub mod sse;
