//! A real headless Chromium, driven over WebDriver (chromedriver + fantoccini), for the web
//! UI's tests. One browser per test; a failing test leaves a screenshot of what the page
//! showed under `target/browser-screenshots/`.

use super::binary::workspace_root;
use super::processes::free_port;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    name: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A browser for the test `name`; `None` (the test skips, saying so) when Chromium is not
    /// installed here and `PIPEKIT_REQUIRE_BROWSER` is unset. The test command installs it and
    /// sets that variable, so in CI a missing browser fails instead.
    pub fn open(name: &str) -> Option<Browser> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            assert!(
                std::env::var_os("PIPEKIT_REQUIRE_BROWSER").is_none(),
                "PIPEKIT_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing"
            );
            eprintln!(
                "skipped: no {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let port = free_port();
        // Its own process group, so that the drop kills chromedriver and every Chromium it
        // started, whatever state they are in.
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a profile folder");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the WebDriver client");
        let mut browser = Browser {
            runtime,
            client: None,
            driver,
            name: name.to_owned(),
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver never listened on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    // This machine's closed network refuses Chromium's own connections.
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", browser._profile.path().display()),
                ]
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let client = browser.runtime.block_on(async {
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
                .expect("a WebDriver session in Chromium")
        });
        browser.client = Some(client);
        Some(browser)
    }

    fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("the session is open until the drop")
    }

    pub fn goto(&self, url: &str) {
        self.runtime
            .block_on(self.client().goto(url))
            .unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    }

    /// The first element `css` finds once `check` holds for its text, within `timeout`.
    pub fn wait_for_text(
        &self,
        css: &str,
        timeout: Duration,
        check: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        loop {
            if let Some(text) = self.text_of(css) {
                if check(&text) {
                    return text;
                }
                last = text;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` never showed what was expected within {timeout:?}; it showed: {last:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The text of the first element `css` finds, if there is one.
    pub fn text_of(&self, css: &str) -> Option<String> {
        self.runtime.block_on(async {
            let element = self.client().find(Locator::Css(css)).await.ok()?;
            element.text().await.ok()
        })
    }

    pub fn exists(&self, css: &str) -> bool {
        self.runtime
            .block_on(self.client().find(Locator::Css(css)))
            .is_ok()
    }

    pub fn click(&self, css: &str) {
        self.runtime.block_on(async {
            let element: Element = self
                .client()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|error| panic!("no `{css}` to click: {error}"));
            element
                .click()
                .await
                .unwrap_or_else(|error| panic!("cannot click `{css}`: {error}"));
        });
    }

    pub fn current_url(&self) -> String {
        self.runtime
            .block_on(self.client().current_url())
            .map(|url| url.to_string())
            .unwrap_or_default()
    }

    /// The value of a script run in the page.
    pub fn script(&self, script: &str) -> serde_json::Value {
        self.runtime
            .block_on(self.client().execute(script, Vec::new()))
            .unwrap_or_else(|error| panic!("the script failed: {error}"))
    }

    /// Saves what the page shows as `target/browser-screenshots/<test>-<what>.png`.
    pub fn screenshot(&self, what: &str) -> Option<PathBuf> {
        let png = self.runtime.block_on(self.client().screenshot()).ok()?;
        let folder = workspace_root().join("target/browser-screenshots");
        std::fs::create_dir_all(&folder).ok()?;
        let path = folder.join(format!("{}-{what}.png", self.name));
        std::fs::write(&path, png).ok()?;
        Some(path)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(path) = self.screenshot("failed")
        {
            eprintln!("the page when the test failed: {}", path.display());
        }
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let group = nix::unistd::Pid::from_raw(-(self.driver.id() as i32));
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.driver.wait();
    }
}
