//! Usage errors, help texts and flag combinations: every usage error is the
//! same one line as any other error, exit 2.

mod common;

use common::{fixture, mdeauth};

/// Run mdeauth with `args`; exit code and stderr.
fn fails(args: &[&str]) -> (i32, String) {
    let out = mdeauth().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `token` for a client-credentials request with `extra` arguments and a
/// secret in the environment: exit code and stderr.
fn token_fails(extra: &[&str]) -> (i32, String) {
    let out = mdeauth()
        .args(["token", "--tenant", "contoso.onmicrosoft.com"])
        .args(["--client-id", "9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90"])
        .args(extra)
        .env("AZURE_CLIENT_SECRET", "x")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_one_line(args: &[&str], want: &str) {
    let (code, err) = fails(args);
    assert_eq!(code, 2, "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(err.starts_with("mdeauth: error: "), "{args:?}: {err}");
    assert!(err.contains(want), "{args:?}: want {want:?} in {err}");
}

#[test]
fn parser_errors_are_one_line_that_points_at_the_commands_help() {
    let tok = fixture("tokens/app-v1.jwt");
    let tok = tok.to_str().unwrap();
    assert_one_line(
        &["verify", tok, "--leeway", "-1"],
        "--leeway -1 is out of range; give seconds between 0 and 86400 (default 300)",
    );
    assert_one_line(&["explain", "-5"], "see `mdeauth explain --help`");
    assert_one_line(
        &[
            "consent-url",
            "--client-id",
            "9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90",
            "--redirect-uri",
            "ftp://x",
        ],
        "redirect URI \"ftp://x\" must be an http(s) URL; give the exact redirect URI registered on the app",
    );
    assert_one_line(&["nope"], "unrecognized subcommand 'nope'");
    assert_one_line(
        &[],
        "no command given; see `mdeauth --help` for the commands",
    );
    assert_one_line(
        &["cache"],
        "`mdeauth cache` needs a subcommand; see `mdeauth cache --help`",
    );
    assert_one_line(
        &["consent-url", "--client-id", "x", "--cloud", "mars"],
        "invalid value 'mars' for '--cloud <CLOUD>' [possible values: public, gcc, gcc-high, dod, china]; see `mdeauth consent-url --help`",
    );
}

#[test]
fn app_names_every_way_to_say_what_the_app_needs() {
    let m = fixture("apps/daemon-ok.json");
    assert_one_line(
        &["app", m.to_str().unwrap()],
        "<--plan <FILE>|--call <METHOD PATH>|--permission <NAME>>",
    );
}

#[test]
fn no_verify_refuses_the_key_flags_it_would_ignore() {
    let tok = fixture("tokens/app-v1.jwt");
    let tok = tok.to_str().unwrap();
    for (flag, value) in [("--timeout", "5"), ("--cache-dir", "/tmp")] {
        assert_one_line(
            &[
                "check",
                "--no-verify",
                flag,
                value,
                "--call",
                "GET /api/alerts",
                tok,
            ],
            "cannot be used with",
        );
        assert_one_line(
            &["scan", "--no-verify", flag, value, tok],
            "cannot be used with",
        );
    }
}

#[test]
fn completions_refuse_an_output_format() {
    assert_one_line(
        &["--format", "json", "completions", "bash"],
        "completions prints a shell script: --format does not apply to it",
    );
    let out = mdeauth().args(["completions", "bash"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let script = String::from_utf8_lossy(&out.stdout);
    // Every --cloud completes the cloud names, not file names.
    assert!(
        script.matches("public gcc gcc-high dod china").count() >= 5,
        "{script}"
    );
}

#[test]
fn each_commands_help_opens_with_what_the_command_does() {
    for (cmd, opening) in [
        ("token", "Get a token from Entra ID"),
        ("doctor", "Run the whole onboarding as one checklist"),
        ("verify", "Verify a token's signature"),
    ] {
        let out = mdeauth().args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.starts_with(opening), "{cmd}: {help}");
    }
}

#[test]
fn empty_or_mistyped_values_are_named() {
    for flag in ["--scope", "--resource"] {
        let (code, err) = fails(&[
            "token",
            "--tenant",
            "4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55",
            "--client-id",
            "9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90",
            flag,
            " ",
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.starts_with(&format!("mdeauth: error: {flag} is empty")),
            "{err}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("app.json");
    std::fs::write(&m, r#"{"appId": 12, "requiredResourceAccess": []}"#).unwrap();
    let (code, err) = fails(&[
        "app",
        m.to_str().unwrap(),
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--credential",
        "secret",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(r#"its "appId" is 12, not the app's id as a string"#),
        "{err}"
    );
}

#[test]
#[cfg(unix)]
fn files_without_an_end_are_read_only_so_far() {
    // /dev/zero reports size 0 and never ends, as a pipe may not: each file
    // flag stops at its bound and says so instead of filling the memory.
    let token = fixture("tokens/app-v1.jwt");
    let token = token.to_str().unwrap();
    let tenant = "4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55";
    let app = "9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90";
    assert_one_line(
        &["verify", "--jwks", "/dev/zero", token],
        "cannot read key set file /dev/zero: it is larger than 2048 KB",
    );
    assert_one_line(
        &["check", "--plan", "/dev/zero", token],
        "cannot read the plan file /dev/zero: it is larger than 16384 KB",
    );
    assert_one_line(
        &[
            "token",
            "--tenant",
            tenant,
            "--client-id",
            app,
            "--client-secret-file",
            "/dev/zero",
            "--authority-host",
            "http://127.0.0.1:9",
        ],
        "cannot read the client secret file /dev/zero: it is larger than 16384 KB",
    );
}

#[test]
fn a_closed_stderr_keeps_the_exit_code() {
    // A CI step that closed stderr: the one-line error cannot be written,
    // and the exit code must still be 2, not a panic's 101.
    let (read_end, write_end) = std::io::pipe().unwrap();
    drop(read_end);
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("mdeauth"))
        .args(["inspect", "notatoken"])
        .stderr(write_end)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn base_urls_refuse_credentials_queries_and_fragments() {
    let tok = fixture("tokens/app-v1.jwt");
    let tok = tok.to_str().unwrap();
    let probe = |base| {
        [
            "probe",
            "--call",
            "GET /api/alerts",
            "--api-base",
            base,
            tok,
        ]
    };
    assert_one_line(
        &probe("http://user:pw@127.0.0.1:9/m"),
        "--api-base holds a user name or password (user:password@): it would replace the credentials mdeauth sends; give it without them: http://127.0.0.1:9/m",
    );
    for base in ["http://127.0.0.1:9/m#x", "http://127.0.0.1:9/m?x=1"] {
        assert_one_line(
            &probe(base),
            "--api-base has a query or fragment (? or #): paths are appended to it, so it must be a base URL; give scheme, host and any path prefix only: http://127.0.0.1:9/m",
        );
    }
    let (code, err) = token_fails(&["--authority-host", "http://127.0.0.1:9#frag"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--authority-host has a query or fragment"),
        "{err}"
    );
    assert_one_line(
        &["verify", "--authority-host", "http://u:p@127.0.0.1:9", tok],
        "--authority-host holds a user name or password",
    );
    // A URL refused for another reason is named without its password.
    for base in [
        "ftp://u:s3cret@api.example",
        "https://u:s3cret@api.example:99999",
    ] {
        let (code, err) = fails(&probe(base));
        assert_eq!(code, 2, "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        assert!(err.contains("api.example"), "{err}");
    }
}

#[test]
fn flags_that_would_be_ignored_are_refused() {
    let tok = fixture("tokens/app-v1.jwt");
    let tok = tok.to_str().unwrap();
    let body = fixture("plans/soc-automation.toml");
    assert_one_line(
        &[
            "probe",
            "--call",
            "GET /api/alerts",
            "--allow-write",
            "--body",
            body.to_str().unwrap(),
            tok,
        ],
        "GET /api/alerts takes no body: --body is sent only with a write call (POST, PATCH, DELETE)",
    );
    let plan = fixture("plans/soc-automation.toml");
    assert_one_line(
        &[
            "doctor",
            "--plan",
            plan.to_str().unwrap(),
            "--no-verify",
            "--jwks",
            "fixtures/keys/jwks.json",
            tok,
        ],
        "cannot be used with",
    );
    assert_one_line(
        &["verify", "--audience", " ", tok],
        "--audience is empty; give the audience your API expects",
    );
    assert_one_line(
        &["scan", "--no-verify", "--context", "delegated", tok],
        "--context is the context the calls of --plan or --call are judged in",
    );
    let (code, err) = token_fails(&[
        "--authority-host",
        "http://127.0.0.1:9",
        "--context",
        "delegated",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--context is the context the calls of --plan or --call are judged in"),
        "{err}"
    );
}
