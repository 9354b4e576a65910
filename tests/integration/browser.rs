//! Headless Chromium for tests that drive a page the way a person would.
//!
//! `browser().await` starts Debian's `/usr/bin/chromedriver` on a free loopback port and opens a
//! Chromium session through it (fantoccini, WebDriver). Without chromedriver it returns `None`
//! after printing why, so a developer without Chromium still gets a green run of everything
//! else; with `FRESHBOT_REQUIRE_BROWSER=1` (CI sets it) a missing browser fails the test
//! instead. `scripts/ensure-chromium.sh` installs it.
//!
//! Only one browser runs at a time (a process-wide lock held by [`Browser`]): Chromium is heavy
//! and the machines have two cores. Dropping the `Browser` kills chromedriver and the Chromium
//! it started (they run in their own process group).

#![allow(dead_code)] // a shared harness: not every helper is used by every test module

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long the `wait_*` helpers wait by default.
pub const WAIT: Duration = Duration::from_secs(20);

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A Chromium window (375 x 800, a phone) driven over WebDriver.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// A browser, or `None` (with the reason printed) when Chromium is not installed and
/// `FRESHBOT_REQUIRE_BROWSER` is not `1`.
pub async fn browser() -> Option<Browser> {
    let required = std::env::var("FRESHBOT_REQUIRE_BROWSER").is_ok_and(|v| v.trim() == "1");
    let missing = [CHROMEDRIVER, CHROMIUM]
        .into_iter()
        .find(|p| !std::path::Path::new(p).exists());
    if let Some(path) = missing {
        let reason = format!(
            "{path} is missing: run scripts/ensure-chromium.sh (installs Debian's chromium and chromium-driver)"
        );
        if required {
            panic!("FRESHBOT_REQUIRE_BROWSER=1 but {reason}");
        }
        eprintln!("SKIPPED browser test: {reason}");
        return None;
    }
    let turn = ONE_AT_A_TIME.lock().await;
    match Browser::start(turn).await {
        Ok(b) => Some(b),
        Err(reason) => panic!("Chromium is installed but could not be started: {reason}"),
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Browser {
    async fn start(turn: tokio::sync::MutexGuard<'static, ()>) -> Result<Self, String> {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let profile = tempfile::tempdir().map_err(|e| format!("no temp dir: {e}"))?;
        let mut cmd = Command::new(CHROMEDRIVER);
        cmd.arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so that dropping the browser can end Chromium too.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let driver = cmd
            .spawn()
            .map_err(|e| format!("starting {CHROMEDRIVER}: {e}"))?;
        // From here on, `Browser`'s drop cleans up whatever happens.
        let mut half = HalfStarted {
            driver: Some(driver),
        };
        let url = format!("http://127.0.0.1:{port}");
        wait_until_listening(port).await?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--window-size=375,800",
                    // The customers are mostly Chinese-speaking: pages start in Chinese.
                    "--lang=zh-CN",
                ],
                "prefs": { "intl.accept_languages": "zh-CN,zh" },
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .map_err(|e| format!("opening a Chromium session: {e}"))?;
        let driver = half.driver.take().ok_or("driver vanished")?;
        Ok(Self {
            client,
            driver,
            _profile: profile,
            _turn: turn,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// Runs a script (`return ...` gives a value back).
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.js("return document.body ? document.body.innerText : ''")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits until the JavaScript expression is truthy and returns its value; panics with
    /// `what` and the page text after `WAIT`.
    pub async fn wait_for(&self, what: &str, expression: &str) -> Value {
        let script = format!("return ({expression});");
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self
                .client
                .execute(&script, vec![])
                .await
                .unwrap_or(Value::Null);
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what} ({expression}); the page shows:\n{}",
                    self.text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's text contains `needle`.
    pub async fn wait_for_text(&self, needle: &str) {
        let quoted = serde_json::to_string(needle).unwrap_or_default();
        self.wait_for(
            &format!("the text {needle:?}"),
            &format!("document.body && document.body.innerText.indexOf({quoted}) >= 0"),
        )
        .await;
    }

    /// Types into the element matched by `css` (appending to what is there).
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        e.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// Clicks the element matched by `css` once it exists.
    pub async fn click(&self, css: &str) {
        let e = self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        e.click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Saves a PNG of the window (for looking at a page while writing a test).
    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        std::fs::write(path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// Ends the session politely (Chromium exits), then the driver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}

/// Cleans up a driver whose session never opened.
struct HalfStarted {
    driver: Option<Child>,
}

impl Drop for HalfStarted {
    fn drop(&mut self) {
        if let Some(d) = self.driver.as_mut() {
            kill_group(d);
        }
    }
}

/// Kills chromedriver and everything in its process group (the Chromium it started), by id.
fn kill_group(driver: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", driver.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = driver.kill();
    let _ = driver.wait();
}

async fn wait_until_listening(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "chromedriver did not listen on port {port} within 20 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
