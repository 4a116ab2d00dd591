//! Text inputs as Windows tools write them. Windows PowerShell 5.1 writes
//! UTF-16LE with a byte-order mark (`Out-File`, `>`; the MDE docs' token
//! script saves its token with `Out-File`), editors add a UTF-8 mark. Every
//! command must read such a file exactly as it reads the plain UTF-8 one.

mod common;

use common::{fixture, fixture_text, mdeauth, mint, utf16le_bom};

const AT: &str = mint::VALID_AT;

/// The encodings a text file arrives in, each with its bytes for `text`.
fn encodings(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let utf16 = |be: bool, bom: bool| {
        let mut out = match (bom, be) {
            (false, _) => Vec::new(),
            (true, false) => vec![0xff, 0xfe],
            (true, true) => vec![0xfe, 0xff],
        };
        for u in text.encode_utf16() {
            out.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        out
    };
    vec![
        ("utf-16le with BOM", utf16le_bom(text)),
        ("utf-16le without BOM", utf16(false, false)),
        ("utf-16be with BOM", utf16(true, true)),
        (
            "utf-8 with BOM",
            [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat(),
        ),
    ]
}

/// stdout, stderr and exit code of `mdeauth <args>`.
fn run(args: &[&str], stdin: Option<Vec<u8>>) -> (String, String, i32) {
    let mut c = mdeauth();
    c.args(args);
    if let Some(s) = stdin {
        c.write_stdin(s);
    }
    let out = c.output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap(),
    )
}

/// Runs `args` with `{}` replaced by the path of `rel` written in each
/// encoding, and checks each run prints what the UTF-8 original gives.
fn same_in_every_encoding(rel: &str, args: &[&str]) {
    let original = fixture(rel).display().to_string();
    let with = |p: &str| -> Vec<String> { args.iter().map(|a| a.replace("{}", p)).collect() };
    let expected = {
        let a = with(&original);
        run(&a.iter().map(String::as_str).collect::<Vec<_>>(), None)
    };
    assert!(expected.1.is_empty(), "{rel}: {}", expected.1);
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in encodings(&fixture_text(rel)) {
        let p = dir
            .path()
            .join(std::path::Path::new(rel).file_name().unwrap());
        std::fs::write(&p, bytes).unwrap();
        let a = with(p.to_str().unwrap());
        let got = run(&a.iter().map(String::as_str).collect::<Vec<_>>(), None);
        let got = (got.0.replace(p.to_str().unwrap(), &original), got.1, got.2);
        assert_eq!(got, expected, "{rel} in {name}");
    }
}

#[test]
fn a_token_saved_by_out_file_inspects_like_the_token() {
    // Out-File ends the line with CRLF.
    let token = fixture_text("tokens/app-v1.jwt").trim().to_string() + "\r\n";
    let expected = run(
        &["inspect", "--format", "json", "--at", AT, "-"],
        Some(token.clone().into_bytes()),
    );
    assert_eq!(expected.2, 0, "{}", expected.1);
    for (name, bytes) in encodings(&token) {
        let got = run(
            &["inspect", "--format", "json", "--at", AT, "-"],
            Some(bytes),
        );
        assert_eq!(got, expected, "{name} on standard input");
    }
    same_in_every_encoding(
        "tokens/app-v1.jwt",
        &[
            "verify",
            "--at",
            AT,
            "--jwks",
            &fixture("keys/jwks.json").display().to_string(),
            "{}",
        ],
    );
}

#[test]
fn json_toml_and_key_files_in_utf16_read_as_their_text() {
    let jwks = fixture("keys/jwks.json").display().to_string();
    let token = fixture("tokens/app-v1.jwt").display().to_string();
    // An app manifest (az ad app show > app.json), a plan, a key set, an error response.
    same_in_every_encoding(
        "apps/daemon-ok.json",
        &[
            "app",
            "--at",
            AT,
            "{}",
            "--plan",
            &fixture("plans/export-daemon.toml").display().to_string(),
        ],
    );
    same_in_every_encoding(
        "plans/soc-automation.toml",
        &["check", "--at", AT, "--jwks", &jwks, "--plan", "{}", &token],
    );
    same_in_every_encoding(
        "keys/jwks.json",
        &["verify", "--at", AT, "--jwks", "{}", &token],
    );
    same_in_every_encoding("errors/aadsts700016.json", &["explain", "{}"]);
}

#[test]
fn bytes_that_are_no_text_say_so_in_one_line() {
    let (out, err, code) = run(&["inspect", "-"], Some(vec![0xc3, 0x28, 0xa0, 0xa1]));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(
        err,
        "mdeauth: error: the input is neither UTF-8 nor UTF-16 text, so it cannot be a token; pass the token text, not a binary file\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plan.toml");
    std::fs::write(&p, [0xff, 0xfe, 0x00, 0xd8]).unwrap();
    let (_, err, code) = run(
        &["check", "--plan", p.to_str().unwrap(), "-"],
        Some(b"x".to_vec()),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with(&format!(
            "mdeauth: error: cannot read the plan file {}: it is neither UTF-8 nor UTF-16 text",
            p.display()
        )),
        "{err}"
    );
    // A key set file that is no text says what to give instead.
    let token = fixture("tokens/app-v1.jwt");
    let (_, err, code) = run(
        &[
            "verify",
            "--jwks",
            p.to_str().unwrap(),
            token.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err,
        format!(
            "mdeauth: error: cannot read key set file {}: it is neither UTF-8 nor UTF-16 text; give the JWKS document ({{\"keys\": [...]}}), saved as text, with --jwks\n",
            p.display()
        )
    );
}
