//! Shared integration-test harness: run the real binary with a clean environment.
#![allow(dead_code)]

pub mod mint;

use std::path::PathBuf;

use assert_cmd::Command;

/// The `mdeauth` binary with an environment that cannot leak into results:
/// no token or Azure variables, no colour, no proxy, a private cache dir.
pub fn mdeauth() -> Command {
    let mut c = Command::cargo_bin("mdeauth").expect("binary built");
    for var in [
        "MDEAUTH_TOKEN",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_USERNAME",
        "AZURE_PASSWORD",
        "AZURE_AUTHORITY_HOST",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "FORCE_COLOR",
        "CLICOLOR_FORCE",
    ] {
        c.env_remove(var);
    }
    c.env("NO_COLOR", "1");
    c.env("NO_PROXY", "127.0.0.1,localhost");
    c.timeout(std::time::Duration::from_secs(60));
    c
}

/// Path of a file under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// Text of a fixture file, trimmed.
pub fn fixture_text(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel))
        .unwrap_or_else(|e| panic!("read fixture {rel}: {e}"))
        .trim()
        .to_string()
}

/// The main TEST-ONLY signing key.
pub fn main_key() -> mint::TestKey {
    mint::TestKey::from_pem(
        &std::fs::read_to_string(fixture("keys/test-signing-key.pem")).unwrap(),
        "signing key",
    )
}

/// Parse stdout as JSON.
pub fn json_out(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The first finding with `code` in a JSON report (panics, showing the
/// report, when there is none).
pub fn finding<'a>(v: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no finding {code} in {v:#}"))
}

/// Azure AD's answer to a device-code request (`/devicecode`), test values.
pub fn devicecode_response() -> serde_json::Value {
    serde_json::json!({
        "device_code": "DC-TEST-ONLY",
        "user_code": "ABCD-1234",
        "verification_uri": "https://microsoft.com/devicelogin",
        "expires_in": 900,
        "interval": 5,
        "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD-1234 to authenticate."
    })
}

/// `text` as Windows PowerShell 5.1's `Out-File` and `>` write it: UTF-16LE
/// with a byte-order mark.
pub fn utf16le_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xfe];
    for u in text.encode_utf16() {
        out.extend(u.to_le_bytes());
    }
    out
}

/// Run `cmd` with, as its last argument, the path of a named pipe that a
/// thread fills with `bytes`: what a shell's `<(command)` hands a program.
/// Asserts the exit code (showing stderr) before waiting for the writer,
/// which waits for a reader that a failing run may never be.
#[cfg(unix)]
pub fn run_on_pipe(mut cmd: Command, bytes: impl Into<Vec<u8>>, code: i32) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo failed");
    let bytes = bytes.into();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(&fifo, bytes))
    };
    let out = cmd
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    writer.join().unwrap().unwrap();
    out
}
