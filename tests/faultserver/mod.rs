//! A tiny raw-TCP HTTP/1.1 server on 127.0.0.1 that serves fixed routes
//! while healthy and misbehaves on demand: no answer, 5xx, HTML, truncated
//! JSON, a huge Content-Length, an endless body, redirect loops, redirects
//! to plain http, a one-byte-per-500-ms trickle, or no listener at all.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How the server answers every request (healthy routes aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Serve the routes (404 for anything else).
    Healthy,
    /// Nothing listens on the port (bound, then closed).
    Refused,
    /// Read the request, never answer.
    NoResponse,
    /// 503 with a JSON body.
    Status5xx,
    /// 200 with an HTML page (a captive portal or proxy).
    Html,
    /// 200 with JSON cut off half-way.
    TruncatedJson,
    /// 200 announcing a 10 GB body, then writing zeros for as long as read.
    HugeLength,
    /// 200 without a length, writing zeros forever.
    EndlessBody,
    /// 302 to itself, forever.
    RedirectLoop,
    /// 302 to a plain-http, non-loopback URL.
    RedirectToHttp,
    /// A correct JSON answer, one byte every 500 ms.
    Trickle,
    /// 200 announcing 5000 bytes, then 20 of them and the connection closed.
    CutOff,
}

impl Fault {
    pub const ALL: [Fault; 11] = [
        Fault::CutOff,
        Fault::Refused,
        Fault::NoResponse,
        Fault::Status5xx,
        Fault::Html,
        Fault::TruncatedJson,
        Fault::HugeLength,
        Fault::EndlessBody,
        Fault::RedirectLoop,
        Fault::RedirectToHttp,
        Fault::Trickle,
    ];
}

/// A route's answer: status, content type, body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Answer {
    pub fn json(v: &serde_json::Value) -> Answer {
        Answer {
            status: 200,
            content_type: "application/json",
            body: v.to_string(),
        }
    }
}

struct State {
    fault: Mutex<Fault>,
    routes: Mutex<HashMap<String, Answer>>,
    hits: AtomicUsize,
    stop: AtomicBool,
}

pub struct FaultServer {
    pub port: u16,
    state: Arc<State>,
    accept: Option<thread::JoinHandle<()>>,
}

impl FaultServer {
    /// Start a server with the given fault (`Refused` binds a port and closes it).
    pub fn start(fault: Fault) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State {
            fault: Mutex::new(fault),
            routes: Mutex::new(HashMap::new()),
            hits: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let mut s = FaultServer {
            port,
            state: state.clone(),
            accept: None,
        };
        if fault == Fault::Refused {
            drop(listener);
            return s;
        }
        s.accept = Some(thread::spawn(move || {
            for conn in listener.incoming() {
                if state.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = state.clone();
                thread::spawn(move || serve(conn, &st));
            }
        }));
        s
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    pub fn route(&self, path: &str, answer: Answer) {
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_string(), answer);
    }

    /// Switch the behaviour; `Refused` stops listening for good.
    pub fn set(&mut self, fault: Fault) {
        if fault == Fault::Refused {
            self.stop();
        }
        *self.state.fault.lock().unwrap() = fault;
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// Close the listening socket (later connections are refused).
    pub fn stop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.accept.take() {
            // Wake the accept loop so it sees the flag and drops the listener.
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            let _ = h.join();
        }
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Read one request head; return its path.
fn read_head(conn: &mut TcpStream) -> Option<String> {
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    // Drain a form body (token endpoints) so the client is not reset mid-write.
    if let Some(len) = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    }) {
        let mut body = vec![0u8; len.min(1 << 20)];
        let _ = conn.read_exact(&mut body);
    }
    head.split_whitespace().nth(1).map(str::to_string)
}

fn respond(conn: &mut TcpStream, status: u16, ctype: &str, body: &str, extra: &str) {
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
}

fn serve(mut conn: TcpStream, st: &State) {
    if st.stop.load(Ordering::SeqCst) {
        return;
    }
    let Some(path) = read_head(&mut conn) else {
        return;
    };
    st.hits.fetch_add(1, Ordering::SeqCst);
    let fault = *st.fault.lock().unwrap();
    let zeros = [b'0'; 16 * 1024];
    match fault {
        Fault::Healthy | Fault::Refused => {
            let route = st
                .routes
                .lock()
                .unwrap()
                .get(path.split('?').next().unwrap_or(""))
                .cloned();
            match route {
                Some(a) => respond(&mut conn, a.status, a.content_type, &a.body, ""),
                None => respond(
                    &mut conn,
                    404,
                    "application/json",
                    r#"{"error":"not found"}"#,
                    "",
                ),
            }
        }
        Fault::NoResponse => {
            // Hold the connection open until the client gives up.
            let mut sink = [0u8; 1024];
            let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
            while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
        }
        Fault::Status5xx => respond(
            &mut conn,
            503,
            "application/json",
            r#"{"error":"temporarily_unavailable","error_description":"the service is busy"}"#,
            "",
        ),
        Fault::Html => respond(
            &mut conn,
            200,
            "text/html",
            "<!DOCTYPE html><html><body><h1>Sign in to the guest Wi-Fi</h1></body></html>",
            "",
        ),
        Fault::TruncatedJson => respond(
            &mut conn,
            200,
            "application/json",
            r#"{"keys":[{"kty":"RSA","kid":"abc","n":"#,
            "",
        ),
        Fault::HugeLength => {
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n"
            );
            while conn.write_all(&zeros).is_ok() {}
        }
        Fault::EndlessBody => {
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
            );
            while conn.write_all(&zeros).is_ok() {}
        }
        Fault::RedirectLoop => respond(
            &mut conn,
            302,
            "text/plain",
            "",
            &format!("Location: {path}\r\n"),
        ),
        Fault::RedirectToHttp => respond(
            &mut conn,
            302,
            "text/plain",
            "",
            "Location: http://login.example.com/keys\r\n",
        ),
        Fault::CutOff => {
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{{\"keys\":[{{\"kty\":\"RSA\","
            );
        }
        Fault::Trickle => {
            let body = r#"{"keys":[]}"#;
            let all = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            for b in all.as_bytes() {
                if conn.write_all(&[*b]).is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(500));
            }
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
}
