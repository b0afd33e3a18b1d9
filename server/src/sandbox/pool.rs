//! The parent side: a pool of sandbox children, each serving one request at
//! a time. A child that overruns the time limit is killed; one that died
//! (out of memory, out of stack) is replaced on the next request.

use super::child::SUBCOMMAND;
use super::{JobResult, Request, Response};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// The `stepwise` binary (by default this process's own).
    pub program: PathBuf,
    /// Children at most (evaluations at once).
    pub workers: usize,
    /// Longest one request may take.
    pub timeout: Duration,
    /// Memory one child may use beyond what it maps at start.
    pub memory_mb: u64,
    /// Largest result one job may return, in bytes of JSON.
    pub max_output_bytes: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            program: std::env::current_exe().unwrap_or_else(|_| "stepwise".into()),
            workers: 2,
            timeout: Duration::from_secs(1),
            memory_mb: 256,
            max_output_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Why a request produced no results.
#[derive(Clone, Debug, PartialEq)]
pub enum SandboxError {
    /// The evaluation crossed a bound (time, memory, stack): the workflow's
    /// author has to change it.
    Limit(String),
    /// The sandbox itself could not run (a child would not start): worth
    /// another attempt.
    Unavailable(String),
}

struct Proc {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

pub struct Sandbox {
    config: SandboxConfig,
    idle: std::sync::Mutex<Vec<Proc>>,
    permits: tokio::sync::Semaphore,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Sandbox {
        Sandbox {
            permits: tokio::sync::Semaphore::new(config.workers.max(1)),
            idle: Default::default(),
            config,
        }
    }

    /// Evaluates every job of `req`; one result per job, in order.
    pub async fn run(&self, req: &Request<'_>) -> Result<Vec<JobResult>, SandboxError> {
        if req.jobs.is_empty() {
            return Ok(vec![]);
        }
        let resp = self.ask(req).await?;
        if resp.results.len() == req.jobs.len() {
            Ok(resp.results)
        } else {
            Err(misread(resp))
        }
    }

    /// Evaluates the pure steps of `chain` in turn over `ctx` (see
    /// [`super::chain`]): each step's jobs' results, up to the first step
    /// that did not succeed. The whole chain shares one time limit.
    pub async fn run_chain(
        &self,
        ctx: &serde_json::Value,
        chain: &[super::Link],
    ) -> Result<Vec<Vec<JobResult>>, SandboxError> {
        if chain.is_empty() {
            return Ok(vec![]);
        }
        let req = Request {
            ctxs: vec![std::borrow::Cow::Borrowed(ctx)],
            jobs: vec![],
            chain: chain.to_vec(),
        };
        let resp = self.ask(&req).await?;
        if (1..=chain.len()).contains(&resp.links.len()) {
            Ok(resp.links)
        } else {
            Err(misread(resp))
        }
    }

    /// Sends `req` to an idle child (or a new one) and reads its answer.
    async fn ask(&self, req: &Request<'_>) -> Result<Response, SandboxError> {
        let mut line = serde_json::to_string(req)
            .map_err(|e| SandboxError::Unavailable(format!("the request cannot be sent: {e}")))?;
        // one write with its line end: a child woken by the text alone
        // would read it, find no line end and sleep again
        line.push('\n');
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SandboxError::Unavailable("the sandbox is shut down".into()))?;
        let taken = self.idle.lock().expect("sandbox pool").pop();
        let mut proc = match taken {
            Some(p) => p,
            None => self.spawn().map_err(SandboxError::Unavailable)?,
        };
        let limit = self.config.timeout;
        match tokio::time::timeout(limit, exchange(&mut proc, &line, self.max_line())).await {
            Ok(Ok(resp)) => {
                self.idle.lock().expect("sandbox pool").push(proc);
                Ok(resp)
            }
            Ok(Err(Exchange::TooLong)) => {
                let _ = proc.child.start_kill();
                Err(SandboxError::Limit(format!(
                    "the results are larger than {} KB together",
                    self.max_line() / 1024
                )))
            }
            Ok(Err(Exchange::Died)) => Err(SandboxError::Limit(self.why_died(proc).await)),
            Err(_) => {
                let _ = proc.child.start_kill();
                let _ = proc.child.wait().await;
                Err(SandboxError::Limit(format!(
                    "the evaluation ran longer than {} and was stopped",
                    human(limit)
                )))
            }
        }
    }

    /// How long a Code step's script may run: most of the request's time
    /// limit, so QuickJS stops it with a message before the child is killed.
    pub fn js_time_ms(&self) -> u64 {
        (self.config.timeout.as_millis() as u64 * 8 / 10).max(5)
    }

    fn max_line(&self) -> usize {
        self.config
            .max_output_bytes
            .saturating_mul(4)
            .max(64 * 1024)
    }

    fn spawn(&self) -> Result<Proc, String> {
        let mut child = Command::new(&self.config.program)
            .arg(SUBCOMMAND)
            .arg("--memory-mb")
            .arg(self.config.memory_mb.to_string())
            .arg("--max-output-bytes")
            .arg(self.config.max_output_bytes.to_string())
            .arg("--js-time-ms")
            .arg(self.js_time_ms().to_string())
            .arg("--js-memory-mb")
            .arg((self.config.memory_mb / 2).max(8).to_string())
            .env_clear()
            // no address space reserved ahead (mimalloc's 1 GiB arena):
            // the child's RLIMIT_AS counts what is mapped when it starts,
            // and a reserved arena would be room beyond the limit
            .env("MIMALLOC_ARENA_RESERVE", "0")
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                format!(
                    "the sandbox could not start ({}): {e}",
                    self.config.program.display()
                )
            })?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        Ok(Proc {
            child,
            stdin,
            stdout,
        })
    }

    /// Reads what the dead child said last, to tell the author which bound
    /// it crossed.
    async fn why_died(&self, mut proc: Proc) -> String {
        let _ = proc.child.start_kill();
        let status = proc.child.wait().await;
        let mut said = String::new();
        if let Some(mut err) = proc.child.stderr.take() {
            let mut buf = vec![0u8; 8192];
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(200), err.read(&mut buf)).await
            {
                said = String::from_utf8_lossy(&buf[..n]).into_owned();
            }
        }
        if said.contains("memory allocation") || said.contains("out of memory") {
            format!(
                "the evaluation needed more than {} MB of memory and was stopped",
                self.config.memory_mb
            )
        } else if said.contains("overflowed its stack") {
            "the evaluation nested too deeply (the data or the recursion) and was stopped".into()
        } else {
            let said = said.trim();
            tracing::warn!(said, ?status, "a sandbox child died");
            "the evaluation stopped the sandbox process unexpectedly".into()
        }
    }
}

/// An answer of the wrong shape: the child could not read the request
/// (it said why) or answered something else.
fn misread(resp: Response) -> SandboxError {
    let why = resp.results.into_iter().find_map(Result::err);
    SandboxError::Unavailable(
        why.unwrap_or_else(|| "the sandbox answered the wrong number of results".into()),
    )
}

enum Exchange {
    Died,
    TooLong,
}

/// Sends `line` (ending in a line end) and reads the answer.
async fn exchange(proc: &mut Proc, line: &str, max_line: usize) -> Result<Response, Exchange> {
    let write = async {
        proc.stdin.write_all(line.as_bytes()).await?;
        proc.stdin.flush().await
    };
    if write.await.is_err() {
        return Err(Exchange::Died);
    }
    let mut buf = Vec::new();
    let mut limited = (&mut proc.stdout).take(max_line as u64 + 1);
    match limited.read_until(b'\n', &mut buf).await {
        Ok(0) | Err(_) => return Err(Exchange::Died),
        Ok(_) => {}
    }
    if buf.last() != Some(&b'\n') {
        return Err(if buf.len() > max_line {
            Exchange::TooLong
        } else {
            Exchange::Died
        });
    }
    serde_json::from_slice(&buf).map_err(|_| Exchange::Died)
}

fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}
