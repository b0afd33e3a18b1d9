//! The child side: `stepwise sandbox --memory-mb N --max-output-bytes N`,
//! started by the pool only. Reads one request per line on standard input,
//! writes one response per line on standard output, and exits when its
//! input closes (the server went away).

use super::{Request, Response, evaluate};
use std::io::{BufRead, Write};

/// The hidden subcommand that makes the binary a sandbox child.
pub const SUBCOMMAND: &str = "sandbox";

/// Stack for evaluations: deep data (`fromjson` of deeply nested text)
/// recurses; past this the child dies and the step is told so.
const STACK_BYTES: usize = 16 * 1024 * 1024;

/// Runs the child until its input closes. `args` are the ones after the
/// subcommand.
pub fn main(args: &[String]) -> std::process::ExitCode {
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let memory = arg("--memory-mb", 256).saturating_mul(1024 * 1024);
    let max_output = arg("--max-output-bytes", 4 * 1024 * 1024) as usize;
    // Code steps: QuickJS stops a script itself before the parent's
    // timeout or the address-space cap would end the whole child
    let js = super::js::JsLimits {
        time: std::time::Duration::from_millis(arg("--js-time-ms", 800)),
        memory_bytes: arg("--js-memory-mb", 128).saturating_mul(1024 * 1024) as usize,
    };
    let worker = std::thread::Builder::new()
        .name("sandbox".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            // The cap applies to what is mapped from here on. It is set
            // from this thread once it has allocated, so the binary, this
            // thread's stack and its allocator arena are already counted
            // (an arena created after the cap would eat into it).
            drop(std::hint::black_box(vec![0u8; 4096]));
            limit_resources(memory);
            serve(max_output, js)
        })
        .expect("the sandbox thread starts");
    match worker.join() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(_) => std::process::ExitCode::FAILURE,
    }
}

fn serve(max_output: usize, js: super::js::JsLimits) {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { return };
        let response = match serde_json::from_str::<Request<'static>>(&line) {
            Ok(req) if !req.chain.is_empty() => {
                let ctx = req.ctxs.into_iter().next().map(|c| c.into_owned());
                let links =
                    super::chain::evaluate_chain(&req.chain, ctx.unwrap_or_default(), js, |r| {
                        capped(r, max_output)
                    });
                Response {
                    results: vec![],
                    links,
                }
            }
            Ok(req) => Response {
                results: req
                    .jobs
                    .iter()
                    .map(|job| capped(evaluate(job, &req.ctxs, js), max_output))
                    .collect(),
                links: vec![],
            },
            Err(e) => Response {
                results: vec![Err(format!("the sandbox could not read the request: {e}"))],
                links: vec![],
            },
        };
        let Ok(text) = serde_json::to_string(&response) else {
            return;
        };
        if writeln!(stdout, "{text}")
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return;
        }
    }
}

/// A result larger than `max` bytes of JSON becomes an error that says so.
fn capped(r: super::JobResult, max: usize) -> super::JobResult {
    let v = r?;
    let len = serde_json::to_string(&v)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    if len > max {
        Err(format!(
            "the result is {} KB; the limit is {} KB",
            len / 1024,
            max / 1024
        ))
    } else {
        Ok(v)
    }
}

fn limit_resources(memory: u64) {
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    let mapped = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0)
        * page;
    let set = |resource, value: u64| {
        let lim = libc::rlimit {
            rlim_cur: value as libc::rlim_t,
            rlim_max: value as libc::rlim_t,
        };
        // SAFETY: setrlimit reads the struct it is given and nothing else.
        unsafe { libc::setrlimit(resource, &lim) };
    };
    set(libc::RLIMIT_AS, mapped.saturating_add(memory));
    // no core files, no files written, no processes started
    set(libc::RLIMIT_CORE, 0);
    set(libc::RLIMIT_FSIZE, 0);
    set(libc::RLIMIT_NOFILE, 16);
}
