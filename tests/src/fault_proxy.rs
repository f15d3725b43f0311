//! A fault-injecting HTTP/1.1 proxy for S3 traffic: the real `aws-sdk-s3` client talks to it, it talks
//! to the emulator, and in between it fails the requests a test asks it to.
//!
//! Small on purpose: requests and responses are read whole and re-framed with `Content-Length`
//! (S3 requests and LocalStack's responses are small here), one upstream connection per request.
//! Bound to 127.0.0.1 on a port the kernel picks; it stops with the test's runtime.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How long a stalled exchange hangs: far longer than any client timeout in the suites.
const STALL: Duration = Duration::from_secs(300);

/// What to do to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and an S3 XML error body; the request never reaches S3.
    Status {
        status: u16,
        code: &'static str,
        message: &'static str,
    },
    /// Reset the connection (TCP RST) once the request has arrived; it never reaches S3.
    Reset,
    /// Take the request and never answer.
    Stall,
    /// Forward; answer with the response head (its full `Content-Length` N), N/2 bytes of the body,
    /// then close the connection.
    CutBody,
    /// Forward; answer with the head and N/2 bytes of the body, then hang.
    StallBody,
    /// Send S3 the request head and half of its body, then drop both connections: an upload cut
    /// short on the wire.
    CutRequest,
    /// Forward, let S3 answer, then reset the client's connection: the request took effect but the
    /// client never learns it.
    DropResponse,
}

impl Fault {
    /// S3's 500 InternalError.
    pub fn internal_error() -> Fault {
        Fault::Status {
            status: 500,
            code: "InternalError",
            message: "We encountered an internal error. Please try again.",
        }
    }

    /// S3's 503 SlowDown (throttling).
    pub fn slow_down() -> Fault {
        Fault::Status {
            status: 503,
            code: "SlowDown",
            message: "Please reduce your request rate.",
        }
    }

    pub fn name(&self) -> String {
        match self {
            Fault::Status { status, code, .. } => format!("{status} {code}"),
            other => format!("{other:?}"),
        }
    }
}

/// A rule: requests with this method whose path contains `path` get `fault`, `times` times
/// (`None`: every time).
#[derive(Debug, Clone)]
struct Rule {
    method: String,
    path: String,
    fault: Fault,
    times: Option<u32>,
}

/// One request the proxy saw, and the fault it got, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub fault: Option<Fault>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
}

impl State {
    fn take_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        let rule = self.rules.iter_mut().find(|rule| {
            rule.method.eq_ignore_ascii_case(method)
                && path.contains(&rule.path)
                && rule.times != Some(0)
        })?;
        if let Some(times) = &mut rule.times {
            *times -= 1;
        }
        Some(rule.fault.clone())
    }
}

pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`: give it to the SDK as its endpoint.
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (`http://host:port`) on the current tokio runtime.
    pub async fn start(upstream: &str) -> io::Result<FaultProxy> {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let _ = client.set_nodelay(true);
                tokio::spawn(serve(client, upstream.clone(), Arc::clone(&shared)));
            }
        });
        Ok(FaultProxy {
            endpoint,
            state,
            accept,
        })
    }

    /// Fails the next `times` requests (`None`: all of them) with `method` whose path contains `path`.
    pub fn inject(&self, method: &str, path: &str, fault: Fault, times: Option<u32>) {
        self.state().rules.push(Rule {
            method: method.to_string(),
            path: path.to_string(),
            fault,
            times,
        });
    }

    /// Removes every rule: S3 has recovered.
    pub fn clear(&self) {
        self.state().rules.clear();
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state().seen.clone()
    }

    /// How many requests with `method` and a path containing `path` the proxy saw.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.state()
            .seen
            .iter()
            .filter(|s| s.method.eq_ignore_ascii_case(method) && s.path.contains(path))
            .count()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// A request or response head: the start line and the header fields, in order.
#[derive(Debug, Clone)]
pub struct Head {
    pub start: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    fn content_length(&self) -> io::Result<Option<usize>> {
        self.header("content-length")
            .map(|v| v.parse().map_err(|_| invalid("bad Content-Length")))
            .transpose()
    }

    fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// The response status (for a response head).
    pub fn status(&self) -> u16 {
        self.start
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// The head as bytes, without the fields in `drop`. With `length`, re-framed for a body of that
    /// many bytes (`Content-Length`, no `Transfer-Encoding`); without, the framing fields stay.
    fn with_length(&self, length: Option<usize>, drop: &[&str]) -> Vec<u8> {
        let framing: &[&str] = if length.is_some() {
            &["content-length", "transfer-encoding"]
        } else {
            &[]
        };
        let mut out = format!("{}\r\n", self.start);
        for (name, value) in &self.headers {
            let skip = framing
                .iter()
                .chain(drop)
                .any(|d| name.eq_ignore_ascii_case(d));
            if !skip {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        if let Some(length) = length {
            out.push_str(&format!("Content-Length: {length}\r\n"));
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

/// Reads a head; `None` at a clean end of stream before any byte.
pub async fn read_head<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> io::Result<Option<Head>> {
    let mut start = String::new();
    loop {
        start.clear();
        if reader.read_line(&mut start).await? == 0 {
            return Ok(None);
        }
        if !start.trim().is_empty() {
            break; // tolerate stray CRLFs between messages
        }
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(invalid("end of stream inside a head"));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| invalid("bad header"))?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok(Some(Head {
        start: start.trim_end().to_string(),
        headers,
    }))
}

/// Reads a body framed as `head` says (decoding chunked transfer coding); `to_eof` reads until the
/// peer closes when there is no framing (responses only).
pub async fn read_body<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    head: &Head,
    to_eof: bool,
) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if head.is_chunked() {
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await?;
            let size = line.trim().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size, 16).map_err(|_| invalid("bad chunk size"))?;
            if size == 0 {
                // Trailer fields, then the empty line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                        return Ok(body);
                    }
                }
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..]).await?;
            line.clear();
            reader.read_line(&mut line).await?;
        }
    } else if let Some(length) = head.content_length()? {
        body.resize(length, 0);
        reader.read_exact(&mut body).await?;
    } else if to_eof {
        reader.read_to_end(&mut body).await?;
    }
    Ok(body)
}

async fn serve(client: TcpStream, upstream: String, state: Arc<Mutex<State>>) {
    let mut client = BufReader::new(client);
    // Any I/O error ends this connection, as it would end a real one.
    while let Ok(Some(head)) = read_head(&mut client).await {
        if head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
            && client
                .get_mut()
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .is_err()
        {
            return;
        }
        let Ok(body) = read_body(&mut client, &head, false).await else {
            return;
        };
        let mut parts = head.start.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let fault = {
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            let fault = state.take_fault(&method, &path);
            state.seen.push(Seen {
                method: method.clone(),
                path: path.clone(),
                fault: fault.clone(),
            });
            fault
        };
        let keep_going = match fault {
            None => exchange(&mut client, &upstream, &method, &head, &body, None)
                .await
                .is_ok(),
            Some(Fault::Status {
                status,
                code,
                message,
            }) => {
                let xml = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                     <Message>{message}</Message><RequestId>FAULTPROXY0001</RequestId>\
                     <HostId>fault-proxy</HostId></Error>"
                );
                let reason = if status == 503 {
                    "Slow Down"
                } else {
                    "Internal Server Error"
                };
                let response = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n\
                     x-amz-request-id: FAULTPROXY0001\r\nContent-Length: {}\r\n\r\n{xml}",
                    xml.len()
                );
                client
                    .get_mut()
                    .write_all(response.as_bytes())
                    .await
                    .is_ok()
            }
            Some(Fault::Reset) => {
                let _ = client.get_ref().set_zero_linger();
                false
            }
            Some(Fault::Stall) => {
                tokio::time::sleep(STALL).await;
                false
            }
            Some(cut @ (Fault::CutBody | Fault::StallBody)) => {
                let _ = exchange(&mut client, &upstream, &method, &head, &body, Some(cut)).await;
                false
            }
            Some(Fault::DropResponse) => {
                let _ = forward(&upstream, &method, &head, &body).await;
                let _ = client.get_ref().set_zero_linger();
                false
            }
            Some(Fault::CutRequest) => {
                if let Ok(mut server) = TcpStream::connect(&upstream).await {
                    let mut request = head.with_length(Some(body.len()), &["connection", "expect"]);
                    request.extend_from_slice(&body[..body.len() / 2]);
                    let _ = server.write_all(&request).await;
                    let _ = server.flush().await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let _ = server.set_zero_linger();
                }
                let _ = client.get_ref().set_zero_linger();
                false
            }
        };
        if !keep_going {
            return;
        }
    }
}

/// Forwards one request on a fresh upstream connection and relays the response, whole or cut.
async fn exchange(
    client: &mut BufReader<TcpStream>,
    upstream: &str,
    method: &str,
    head: &Head,
    body: &[u8],
    cut: Option<Fault>,
) -> io::Result<()> {
    let (response, data) = forward(upstream, method, head, body).await?;
    let writer = client.get_mut();
    let Some(data) = data else {
        // Keep the announced length of a HEAD answer: it describes the object.
        writer
            .write_all(&response.with_length(None, &["connection"]))
            .await?;
        return writer.flush().await;
    };
    writer
        .write_all(&response.with_length(Some(data.len()), &["connection"]))
        .await?;
    match cut {
        None => writer.write_all(&data).await?,
        Some(Fault::StallBody) => {
            writer.write_all(&data[..data.len() / 2]).await?;
            writer.flush().await?;
            tokio::time::sleep(STALL).await;
        }
        Some(_) => {
            writer.write_all(&data[..data.len() / 2]).await?;
            writer.flush().await?;
            writer.shutdown().await?;
        }
    }
    writer.flush().await
}

/// Sends one request to S3 on a fresh connection; returns the final response head and its body
/// (`None` for answers that have none: HEAD, 204, 304).
async fn forward(
    upstream: &str,
    method: &str,
    head: &Head,
    body: &[u8],
) -> io::Result<(Head, Option<Vec<u8>>)> {
    let mut server = BufReader::new(TcpStream::connect(upstream).await?);
    let mut request = head.with_length(
        (!body.is_empty() || head.content_length()?.is_some()).then_some(body.len()),
        &["connection", "expect"],
    );
    // One request per upstream connection: the response then ends at the latest when S3 closes.
    let split = request.len() - 2;
    request.splice(split..split, b"Connection: close\r\n".iter().copied());
    request.extend_from_slice(body);
    server.get_mut().write_all(&request).await?;

    let response = loop {
        let response = read_head(&mut server)
            .await?
            .ok_or_else(|| invalid("S3 closed without answering"))?;
        if response.status() >= 200 {
            break response;
        }
    };
    if method.eq_ignore_ascii_case("HEAD") || matches!(response.status(), 204 | 304) {
        return Ok((response, None));
    }
    let data = read_body(&mut server, &response, true).await?;
    Ok((response, Some(data)))
}
