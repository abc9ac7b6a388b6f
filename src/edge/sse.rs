//! Server-Sent Events framing (the WHATWG `text/event-stream` format): the lines each stream
//! sends, and the response that carries them. What the events mean is the domain's; how they
//! travel is decided here once.

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;
use futures_util::Stream;

/// The first bytes of a stream: the reconnect delay a client should use, and a comment saying
/// where the stream starts, so the client knows at once that it is connected.
pub fn hello(retry_ms: u32, position: i64) -> Bytes {
    Bytes::from(format!("retry: {retry_ms}\n: following after {position}\n\n"))
}

/// One event: `id` is what the client sends back as `Last-Event-ID` to resume after it. `data`
/// is one line of JSON (serde_json never writes a newline into compact output).
pub fn event(id: i64, name: &str, data: &str) -> Bytes {
    Bytes::from(format!("id: {id}\nevent: {name}\ndata: {data}\n\n"))
}

/// A comment line that keeps idle proxies from closing the connection.
pub fn heartbeat() -> Bytes {
    Bytes::from_static(b": heartbeat\n\n")
}

/// The response for a stream of framed events: never cached, never buffered by a proxy.
pub fn response<S, E>(body: S) -> HttpResponse
where
    S: Stream<Item = Result<Bytes, E>> + 'static,
    E: Into<Box<dyn std::error::Error>> + 'static,
{
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
}
