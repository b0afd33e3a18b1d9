//! A local mail server speaking real SMTP (greeting, EHLO, AUTH PLAIN,
//! MAIL, RCPT, DATA with dot-stuffing, RSET, QUIT) that keeps every
//! message it accepts, or refuses as the test says: what Stepwise's mail
//! client (`lettre`) talks to in these tests.

use base64::Engine as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// How the server answers `MAIL FROM`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Accept,
    /// `451` (try again later) for the first N messages, then accept.
    FailFirst(usize),
    /// `550` for every message: a refusal that will not change.
    Reject,
    /// Keeps the first N messages' data but answers `451` after it (the
    /// sender cannot know it arrived), then accepts.
    FailAfterData(usize),
}

/// One accepted message.
#[derive(Clone, Debug, PartialEq)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body), dot-stuffing undone.
    pub data: String,
    /// `user` and `password` of AUTH PLAIN, when the client signed in.
    pub auth: Option<(String, String)>,
}

impl Received {
    /// A header's value (unfolded), by name in any case.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The body of a single-part message, its transfer encoding undone.
    pub fn text(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        match self.header("content-transfer-encoding").as_deref() {
            Some("base64") => {
                let compact: String = body.split_whitespace().collect();
                String::from_utf8_lossy(
                    &base64::engine::general_purpose::STANDARD
                        .decode(compact)
                        .unwrap_or_default(),
                )
                .into_owned()
            }
            Some("quoted-printable") => String::from_utf8_lossy(
                &quoted_printable::decode(body, quoted_printable::ParseMode::Robust)
                    .unwrap_or_default(),
            )
            .into_owned(),
            _ => body.to_string(),
        }
    }
}

pub struct SmtpServer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Every `MAIL FROM` seen, accepted or not.
    pub attempts: Arc<AtomicUsize>,
}

impl SmtpServer {
    pub async fn start(mode: Mode) -> SmtpServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(AtomicUsize::new(0));
        let (r, a) = (received.clone(), attempts.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (r, a) = (r.clone(), a.clone());
                tokio::spawn(async move {
                    let _ = session(socket, mode, r, a).await;
                });
            }
        });
        SmtpServer {
            port,
            received,
            attempts,
        }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= n || start.elapsed() > Duration::from_secs(10) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn address(arg: &str) -> String {
    let a = arg.split_once(':').map(|x| x.1).unwrap_or(arg).trim();
    a.trim_start_matches('<')
        .split('>')
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn session(
    socket: tokio::net::TcpStream,
    mode: Mode,
    received: Arc<Mutex<Vec<Received>>>,
    attempts: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 test.local ESMTP ready\r\n").await?;
    let (mut from, mut to, mut auth) = (String::new(), Vec::new(), None);
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let verb = cmd
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-test.local\r\n250-AUTH PLAIN\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n",
            "HELO" | "NOOP" => b"250 ok\r\n",
            "AUTH" => {
                let b64 = cmd.split(' ').nth(2).unwrap_or_default();
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_default();
                let parts: Vec<String> = raw
                    .split(|b| *b == 0)
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect();
                auth = (parts.len() == 3).then(|| (parts[1].clone(), parts[2].clone()));
                b"235 2.7.0 authenticated\r\n"
            }
            "MAIL" => {
                let n = attempts.fetch_add(1, Ordering::SeqCst);
                match mode {
                    Mode::Reject => b"550 5.7.1 sender refused by policy\r\n",
                    Mode::FailFirst(k) if n < k => b"451 4.3.0 try again later\r\n",
                    _ => {
                        from = address(&cmd);
                        to.clear();
                        b"250 ok\r\n"
                    }
                }
            }
            "RCPT" => {
                to.push(address(&cmd));
                b"250 ok\r\n"
            }
            "RSET" => {
                to.clear();
                b"250 ok\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let n = {
                    let mut r = received.lock().unwrap();
                    r.push(Received {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                        auth: auth.clone(),
                    });
                    r.len()
                };
                match mode {
                    Mode::FailAfterData(k) if n <= k => b"451 4.3.0 local problem, try again\r\n",
                    _ => b"250 2.0.0 queued\r\n",
                }
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}
