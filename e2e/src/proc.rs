//! Child processes whose output is collected as it comes, and waiting for a condition.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A child process whose output lines are collected as they come.
pub struct Proc {
    /// Its name in messages.
    pub name: String,
    /// The process.
    pub child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    /// Starts `command`, collecting its stdout and stderr lines.
    pub fn spawn(name: &str, mut command: Command) -> Proc {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for out in [
            child.stdout.take().map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
            child.stderr.take().map(|e| Box::new(e) as _),
        ]
        .into_iter()
        .flatten()
        {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    lines.lock().expect("lines").push(line);
                }
            });
        }
        Proc { name: name.to_owned(), child, lines }
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        self.lines.lock().expect("lines").join("\n")
    }

    /// Waits (up to 30 s) for a line that starts with `prefix`.
    pub fn wait_for_line(&mut self, prefix: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.lines.lock().expect("lines").iter().any(|l| l.starts_with(prefix)) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}) before {prefix:?}:\n{}", self.name, self.output());
            }
            assert!(Instant::now() < deadline, "{}: no {prefix:?} in time:\n{}", self.name, self.output());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the exit status and how long it took.
    pub fn terminate(&mut self) -> (std::process::ExitStatus, Duration) {
        let sent = Instant::now();
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(killed.success());
        (self.child.wait().expect("wait"), sent.elapsed())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `check` holds, polling every 100 ms; panics after `within`.
pub async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> F,
) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
