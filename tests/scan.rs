//! `mdeauth scan`: every input shape, de-duplication, locations, JWE,
//! agreement with `inspect`, stdin, errors and the JSON lines contract.

mod common;

use std::collections::BTreeMap;

use common::{fixture, fixture_text, json_out, mdeauth, mint, utf16le_bom};
use predicates::prelude::*;
use serde_json::{Value, json};

const AT: &str = mint::VALID_AT;

/// Run `scan --format json` and split the JSON lines into token objects and the summary.
fn scan_json(args: &[&str], stdin: Option<String>) -> (i32, Vec<Value>, Value) {
    scan_json_bytes(args, stdin.map(String::into_bytes))
}

/// [`scan_json`] with any bytes on standard input.
fn scan_json_bytes(args: &[&str], stdin: Option<Vec<u8>>) -> (i32, Vec<Value>, Value) {
    let mut c = mdeauth();
    c.args(["scan", "--no-verify", "--format", "json", "--at", AT])
        .args(args);
    if let Some(s) = stdin {
        c.write_stdin(s);
    }
    let out = c.output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let summary = lines.pop().expect("a summary line");
    assert_eq!(summary["type"], "summary", "last line is the summary");
    assert!(lines.iter().all(|l| l["type"] == "token"));
    (out.status.code().unwrap(), lines, summary)
}

/// The `part` of each of a token line's HAR locations, in order.
fn parts_of(token: &Value) -> Vec<&str> {
    token["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["part"].as_str().unwrap())
        .collect()
}

/// Run `scan --no-verify --at AT` with human output: exit code and stdout.
fn scan_human(args: &[&str]) -> (i32, String) {
    let out = mdeauth()
        .args(["scan", "--no-verify", "--at", AT])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn fp_of(name: &str) -> String {
    let out = mdeauth()
        .args(["inspect", "--format", "json", "--at", AT])
        .arg(fixture(&format!("tokens/{name}.jwt")))
        .output()
        .unwrap();
    json_out(&out)["token"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

fn by_fp(tokens: &[Value]) -> BTreeMap<String, Value> {
    tokens
        .iter()
        .map(|t| (t["fingerprint"].as_str().unwrap().to_string(), t.clone()))
        .collect()
}

fn path(rel: &str) -> String {
    fixture(rel).display().to_string()
}

#[test]
fn plain_log_finds_bearer_headers_and_dedups_with_exact_lines() {
    let (code, tokens, summary) = scan_json(&[&path("scan/app.log")], None);
    // The expired token fails, so the scan fails.
    assert_eq!(code, 1);
    let m = by_fp(&tokens);
    assert_eq!(m.len(), 2, "{tokens:?}");
    let app = &m[&fp_of("app-v1")];
    assert_eq!(app["occurrences"], 3);
    let file = path("scan/app.log");
    assert_eq!(
        app["locations"],
        json!([{"file": file, "line": 2}, {"file": file, "line": 5}, {"file": file, "line": 9}])
    );
    assert_eq!(app["verdict"], "pass");
    assert_eq!(app["resource"], "mde");
    assert_eq!(app["app_id"], mint::APP);
    assert_eq!(app["tenant_id"], mint::TENANT);
    assert_eq!(app["context"], "application");
    // A token followed by a full stop at the end of a sentence is still found.
    let expired = &m[&fp_of("expired")];
    assert_eq!(expired["locations"], json!([{"file": file, "line": 6}]));
    assert_eq!(expired["verdict"], "fail");
    assert_eq!(expired["errors"], json!(["token.expired"]));
    // `eyJ...` whose header is not a JOSE header is not a token.
    assert_eq!(summary["occurrences"], 4);
    assert_eq!(summary["unique_tokens"], 2);
    assert_eq!(
        summary["by_status"],
        json!({"pass": 1, "fail": 1, "encrypted": 0})
    );
    assert_eq!(summary["verdict"], "fail");
}

#[test]
fn json_log_lines_find_token_responses_headers_and_id_tokens() {
    let (code, tokens, summary) = scan_json(&[&path("scan/app.jsonl")], None);
    assert_eq!(code, 1);
    let m = by_fp(&tokens);
    let file = path("scan/app.jsonl");
    let delegated = &m[&fp_of("delegated-v1")];
    assert_eq!(delegated["locations"], json!([{"file": file, "line": 1}]));
    assert_eq!(delegated["context"], "delegated");
    assert_eq!(delegated["verdict"], "pass");
    let graph = &m[&fp_of("graph-nonce")];
    assert_eq!(graph["locations"], json!([{"file": file, "line": 2}]));
    assert_eq!(graph["resource"], "graph");
    assert_eq!(graph["errors"], json!(["aud.not_mde"]));
    let id = &m[&fp_of("id-token")];
    assert_eq!(id["locations"], json!([{"file": file, "line": 3}]));
    assert_eq!(id["kind"], "id");
    assert_eq!(id["errors"], json!(["token.id_token"]));
    assert_eq!(
        summary["by_resource"],
        json!({"mde": 1, "graph": 1, "other": 1})
    );
    // Audiences as written: the ID token's is the client id.
    assert_eq!(
        summary["by_audience"],
        json!({
            "https://api.securitycenter.microsoft.com": 1,
            "https://graph.microsoft.com": 1,
            mint::APP: 1
        })
    );
    assert_eq!(summary["by_tenant"], json!({ mint::TENANT: 3 }));
}

#[test]
fn har_headers_post_data_response_bodies_base64_and_urls() {
    let (code, tokens, summary) = scan_json(&[&path("scan/capture.har")], None);
    assert_eq!(code, 1);
    let file = path("scan/capture.har");
    let m = by_fp(&tokens);
    let loc = |entry: u64, method: &str, url: &str, part: &str| json!({"file": file, "entry": entry, "method": method, "url": url, "part": part});
    let token_url = format!(
        "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
        mint::TENANT
    );
    // Request header, twice (entries 0 and 3, header name in any case).
    assert_eq!(
        m[&fp_of("app-v1")]["locations"],
        json!([
            loc(
                0,
                "GET",
                "https://api.securitycenter.microsoft.com/api/machines",
                "request header Authorization"
            ),
            loc(
                3,
                "GET",
                "https://api.securitycenter.microsoft.com/api/alerts",
                "request header authorization"
            ),
        ])
    );
    // Request body (postData.text).
    assert_eq!(
        m[&fp_of("delegated-v1")]["locations"],
        json!([loc(1, "POST", &token_url, "request body")])
    );
    // Token response in a plain response body: access_token and id_token.
    assert_eq!(
        m[&fp_of("app-v2")]["locations"],
        json!([loc(1, "POST", &token_url, "response body")])
    );
    assert_eq!(
        m[&fp_of("id-token")]["locations"],
        json!([loc(1, "POST", &token_url, "response body")])
    );
    // Base64-encoded response body.
    assert_eq!(
        m[&fp_of("graph-nonce")]["locations"],
        json!([loc(2, "POST", &token_url, "response body (base64)")])
    );
    // Token in the query string: found, and the URL shown without the query.
    assert_eq!(
        m[&fp_of("expired")]["locations"],
        json!([loc(
            4,
            "GET",
            "https://api.securitycenter.microsoft.com/api/machines",
            "request URL"
        )])
    );
    // The JWE in entry 3's response body is counted as encrypted, not failed.
    assert_eq!(
        summary["by_status"],
        json!({"pass": 3, "fail": 3, "encrypted": 1})
    );
    // One resource, two spellings of its audience: the v2 token carries the
    // WindowsDefenderATP app id, the v1 tokens its URI.
    assert_eq!(summary["by_resource"]["mde"], 4);
    assert_eq!(
        summary["by_audience"],
        json!({
            "https://api.securitycenter.microsoft.com": 3,
            "fc780465-2017-40d4-a0c5-307022471b92": 1,
            "https://graph.microsoft.com": 1,
            mint::APP: 1,
            "(encrypted)": 1
        })
    );
    let jwe: Vec<&Value> = tokens
        .iter()
        .filter(|t| t["status"] == "encrypted")
        .collect();
    assert_eq!(jwe.len(), 1);
    assert_eq!(jwe[0]["verdict"], Value::Null);
    assert_eq!(jwe[0]["locations"][0]["entry"], 3);
    assert_eq!(jwe[0]["locations"][0]["part"], "response body");
}

#[test]
fn har_is_detected_by_content_on_stdin() {
    let har = std::fs::read_to_string(fixture("scan/capture.har")).unwrap();
    let (_, tokens, summary) = scan_json(&["-"], Some(har));
    assert_eq!(summary["unique_tokens"], 7);
    let app = &by_fp(&tokens)[&fp_of("app-v1")];
    assert_eq!(app["locations"][0]["file"], "<stdin>");
    assert_eq!(app["locations"][0]["entry"], 0);
}

#[test]
fn a_docker_json_log_is_text_and_a_har_with_a_byte_order_mark_is_har() {
    // Docker's json-file driver: {"log":"<the line>\n","stream":...}, with a
    // token after a JSON escape (\t) on the second line.
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let log = format!(
        "{{\"log\":\"GET /x Authorization: Bearer {t}\\n\",\"stream\":\"stdout\"}}\n{{\"log\":\"token\\t{t}\\n\",\"stream\":\"stdout\"}}\n"
    );
    let (code, tokens, summary) = scan_json(&["-"], Some(log));
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["occurrences"], 2, "{summary}");
    assert_eq!(tokens[0]["locations"][1]["line"], 2);
    let mut har = b"\xEF\xBB\xBF".to_vec();
    har.extend(std::fs::read(fixture("scan/capture.har")).unwrap());
    let (_, _, summary) = scan_json_bytes(&["-"], Some(har));
    assert_eq!(summary["unique_tokens"], 7, "{summary}");
}

#[test]
fn a_json_log_wrapped_again_is_searched_through_both_escapes() {
    // A JSON app log inside Docker's json-file log: the app's `\n` is
    // written `\\n`, its `\u0022` `\\u0022`, and a colour code's ESC
    // `\u001b`.
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let e = fixture_text("tokens/expired.jwt");
    let e = e.trim();
    let inner = serde_json::to_string(&json!({"msg": format!("acquired token:\n{t}")})).unwrap();
    let docker =
        serde_json::to_string(&json!({"log": format!("{inner}\n"), "stream": "stdout"})).unwrap();
    let dotnet = format!(r#"{{"log":"{{\\u0022token\\u0022:\\u0022{e}\\u0022}}\n"}}"#);
    let ansi = format!(r#"{{"log":"token: \u001b[33m{e}\u001b[0m\n"}}"#);
    let (code, tokens, summary) = scan_json(&["-"], Some(format!("{docker}\n{dotnet}\n{ansi}\n")));
    assert_eq!(summary["occurrences"], 3, "{summary}");
    assert_eq!(summary["unique_tokens"], 2, "{summary}");
    assert_eq!(code, 1, "the expired token fails: {summary}");
    assert_eq!(tokens.len(), 2);
}

#[test]
fn tokens_a_log_cut_short_or_redacted_are_a_note_not_a_failure() {
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let (h, rest) = t.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let log = format!(
        "Bearer {h}.{}...\ntoken {h}.{p}.{}... (truncated)\ntoken={h}.{p}.[REDACTED]\ntoken={h}.{p}.REDACTED\n",
        &p[..40],
        &s[..20]
    );
    let (code, tokens, summary) = scan_json(&["-"], Some(log));
    assert_eq!(code, 0, "{summary}");
    assert!(tokens.is_empty(), "{tokens:?}");
    let notes = summary["notes"].to_string();
    assert!(
        notes.contains("left out 4 token(s) the input cut short or redacted"),
        "{notes}"
    );
    // In a HAR capture, counted once too.
    let har = json!({"log": {"entries": [{"request": {"method": "GET", "url": "https://a/",
        "headers": [{"name": "Authorization", "value": format!("Bearer {h}.{p}.[REDACTED]")}]}}]}});
    let (_, _, summary) = scan_json(&["-"], Some(har.to_string()));
    assert!(
        summary["notes"].to_string().contains("left out 1 token(s)"),
        "{summary}"
    );
    // JUnit carries the notes in the suite's output.
    let out = mdeauth()
        .args(["scan", "--no-verify", "--format", "junit", "--at", AT, "-"])
        .write_stdin(format!("token={h}.{p}.[REDACTED]\n"))
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(
        xml.contains(
            "<system-out>note: &lt;stdin&gt;: left out 1 token(s) the input cut short or redacted"
        ),
        "{xml}"
    );
    // Cut with no mark: verification says what happened, not "altered".
    let log = format!("token={h}.{p}.{}\n", &s[..300]);
    let out = mdeauth()
        .args(["scan", "--format", "json", "--at", AT, "--jwks"])
        .arg(fixture("keys/jwks.json"))
        .arg("-")
        .write_stdin(log)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("the signature is 225 bytes, but the key(s)")
            && text.contains(
                "make 256-byte signatures: the token was cut short or its signature replaced"
            ),
        "{text}"
    );
}

#[test]
fn a_har_with_lone_surrogate_escapes_is_read_whole() {
    // Python writes undecodable bytes as "\udcff"; the entries after it,
    // and the rest of its own entry, are still searched.
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let e = fixture_text("tokens/expired.jwt");
    let e = e.trim();
    let har = format!(
        r#"{{"log":{{"version":"1.2","entries":[{{"request":{{"method":"GET","url":"https://a/1","headers":[{{"name":"Authorization","value":"Bearer {t}"}}]}},"response":{{"content":{{"text":"\udc89PNG\ud800x"}}}}}},{{"request":{{"method":"GET","url":"https://a/2","headers":[{{"name":"Authorization","value":"Bearer {e}"}}]}}}}]}}}}"#
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lone.har");
    std::fs::write(&file, har).unwrap();
    let (code, tokens, summary) = scan_json(&[file.to_str().unwrap()], None);
    assert_eq!(summary["unique_tokens"], 2, "{summary}");
    assert_eq!(tokens.len(), 2);
    assert_eq!(code, 1, "the expired token fails: {summary}");
    assert!(
        summary["notes"]
            .to_string()
            .contains("2 lone UTF-16 surrogate escape(s)"),
        "{summary}"
    );
}

#[test]
fn a_har_named_json_that_is_no_har_is_read_as_text() {
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in [
        ("resp.har", format!("{{\"access_token\":\"{t}\"}}\n")),
        (
            "lines.har",
            format!("{{\"msg\":\"a\"}}\n{{\"token\":\"{t}\"}}\n"),
        ),
        // Docker's json-file lines and an ECS record, under a .har name.
        (
            "docker.har",
            format!("{{\"log\":\"GET Bearer {t}\\n\",\"stream\":\"stdout\"}}\n"),
        ),
        (
            "ecs.har",
            format!("{{\"log\":{{\"level\":\"info\"}},\"message\":\"Bearer {t}\"}}\n"),
        ),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, body).unwrap();
        let (_, tokens, summary) = scan_json(&[file.to_str().unwrap()], None);
        assert_eq!(tokens.len(), 1, "{name}: {summary}");
        assert!(
            summary["notes"]
                .to_string()
                .contains("named .har but not a HAR document (JSON that does not start as one, with a log object of HAR's members); read as text"),
            "{name}: {summary}"
        );
    }
}

#[test]
fn har_strings_outside_the_known_fields_are_searched_and_named_by_path() {
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let har = json!({"log": {"entries": [
        {"request": format!("Bearer {t}")},
        {"request": {"method": "GET", "url": "https://a.example/ws"},
         "_webSocketMessages": [{"type": "send", "data": format!("{{\"auth\":\"{t}\"}}")}]}
    ]}});
    let (_, tokens, summary) = scan_json(&["-"], Some(har.to_string()));
    assert_eq!(summary["occurrences"], 2, "{summary}");
    let parts = parts_of(&tokens[0]);
    assert_eq!(parts, ["field request", "field _webSocketMessages[0].data"]);
    // A member's name is searched too (a tool's map keyed by token), and
    // the name shown for it and for what it holds hides the token.
    let har = json!({"log": {"entries": [
        {"request": {"method": "GET", "url": "https://a.example/"},
         "_sessions": {(format!("Bearer {t}")): {"user": "x"}}}
    ]}});
    let (_, tokens, summary) = scan_json(&["-"], Some(har.to_string()));
    assert_eq!(summary["occurrences"], 1, "{summary}");
    assert_eq!(
        parts_of(&tokens[0]),
        ["field _sessions.Bearer <token> (its name)"]
    );
    // An entry that is a bare string is named as such, with no blank
    // method or URL in its place.
    let e = fixture_text("tokens/expired.jwt");
    let har = json!({"log": {"entries": [null, 5, format!("Bearer {}", e.trim())]}});
    let (_, tokens, _) = scan_json(&["-"], Some(har.to_string()));
    assert_eq!(parts_of(&tokens[0]), ["the entry itself"]);
    let out = mdeauth()
        .args(["scan", "--no-verify", "--at", AT, "-"])
        .write_stdin(har.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("at <stdin> entry 2 (the entry itself)"),
        "{text}"
    );
}

#[test]
fn a_har_entry_over_4_mib_is_searched_as_text_and_placed_by_its_entry() {
    let tok = |n: &str| fixture_text(&format!("tokens/{n}.jwt")).trim().to_string();
    let (a, b, c) = (tok("app-v1"), tok("expired"), tok("delegated-v1"));
    // 5 MiB of response body around two sightings of b; a is in the big
    // entry's request header as well as in the entry before it.
    let filler = "x".repeat(5 << 20);
    let har = json!({"log": {"version": "1.2", "entries": [
        {"request": {"method": "GET", "url": "https://a.example/one",
            "headers": [{"name": "Authorization", "value": format!("Bearer {a}")}]}},
        {"_initiator": {"type": "script",
            "stack": {"callFrames": [{"url": "https://cdn.example/app.js"}]}},
         "request": {"method": "POST", "url": "https://api.example/upload?sig=secret#f",
            "headers": [{"name": "Authorization", "value": format!("Bearer {a}")}]},
         "response": {"content": {"text": format!("{{\"t\":\"{b}\"}} {filler} {b}")}}},
        {"request": {"method": "GET", "url": "https://a.example/three",
            "headers": [{"name": "Authorization", "value": format!("Bearer {c}")}]}}
    ]}});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.har");
    std::fs::write(&file, har.to_string()).unwrap();
    let name = file.display().to_string();
    let (code, tokens, summary) = scan_json(&[&name], None);
    assert_eq!(code, 1, "the expired token fails: {summary}");
    assert_eq!(summary["unique_tokens"], 3, "{summary}");
    assert_eq!(summary["occurrences"], 5, "{summary}");
    let big = json!({"file": name, "entry": 1, "method": "POST",
        "url": "https://api.example/upload", "part": "entry over 4 MiB, searched as text"});
    let by = by_fp(&tokens);
    let ta = &by[&fp_of("app-v1")];
    assert_eq!(ta["occurrences"], 2);
    assert_eq!(
        parts_of(ta),
        [
            "request header Authorization",
            "entry over 4 MiB, searched as text"
        ]
    );
    assert_eq!(ta["locations"][1], big);
    let tb = &by[&fp_of("expired")];
    assert_eq!(tb["occurrences"], 2);
    assert_eq!(tb["locations"][0], big);
    assert_eq!(tb["status"], "fail");
    // The entry after it is read field by field again.
    let tc = &by[&fp_of("delegated-v1")];
    assert_eq!(tc["locations"][0]["entry"], 2);
    assert_eq!(parts_of(tc), ["request header Authorization"]);
    let notes = summary["notes"].to_string();
    assert!(
        notes.contains("big.har: 1 HAR entry over 4 MiB (the largest 5.0 MiB) searched as text, not field by field"),
        "{notes}"
    );
    // Cut inside the big entry: what it holds up to the cut is searched,
    // and the cut is told.
    let text = har.to_string();
    let cut = text.rfind(&format!(" {b}")).unwrap() + 1 + b.len();
    let (_, tokens, summary) = scan_json(&["-"], Some(text[..cut].to_string()));
    assert_eq!(
        by_fp(&tokens)[&fp_of("expired")]["occurrences"],
        2,
        "{summary}"
    );
    let notes = summary["notes"].to_string();
    assert!(
        notes.contains("the 2 entries before that point were scanned, the last of them as far as the input goes"),
        "{notes}"
    );
    assert!(notes.contains("1 HAR entry over 4 MiB"), "{notes}");
    // The parser's position counts the large entry as its stand-in: not
    // shown.
    assert!(!notes.contains(" at line "), "{notes}");
    // Only log.entries is held and searched: a large page is skipped as
    // before, and a stand-in written into the input stands for nothing.
    let har = json!({"log": {
        "pages": [{"title": format!("Bearer {b}"), "pad": filler}],
        "entries": [{"_mdeauthLarge": 1},
            {"request": {"method": "GET", "url": "https://a.example/",
              "headers": [{"name": "Authorization", "value": format!("Bearer {c}")}]}}]}});
    let (_, tokens, summary) = scan_json(&["-"], Some(har.to_string()));
    assert_eq!(summary["occurrences"], 1, "{summary}");
    assert_eq!(tokens[0]["locations"][0]["entry"], 1);
    assert_eq!(summary["notes"], json!([]), "{summary}");
}

#[test]
fn a_token_after_a_json_escape_is_found_at_a_block_edge_too() {
    // scan reads 1 MiB + 64 KiB at a time; with the backslash of `\n` as
    // the block's last separator, the token after it is carried into the
    // next block and must still be read as starting after a line break.
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let head = "{\"msg\":\"token acquired:";
    for before_edge in [300, 100, 3] {
        let backslash_at = (1 << 20) + 64 * 1024 - before_edge;
        let pad = " ".repeat(backslash_at - head.len() - 1);
        let input = format!("{pad}\n{head}\\n{t}\"}}\n");
        let (_, tokens, summary) = scan_json(&["-"], Some(input));
        assert_eq!(summary["occurrences"], 1, "{before_edge}: {summary}");
        assert_eq!(tokens[0]["locations"][0]["line"], 2, "{before_edge}");
    }
}

#[test]
fn har_copies_of_the_query_string_and_cookies_are_not_counted_again() {
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let har = json!({"log": {"entries": [{
        "request": {"method": "GET", "url": format!("https://a.example/x?access_token={t}"),
            "headers": [{"name": "Cookie", "value": format!("session={t}")}],
            "queryString": [{"name": "access_token", "value": t}],
            "cookies": [{"name": "session", "value": t}]},
        "response": {"headers": [{"name": "Set-Cookie", "value": format!("s={t}")}],
            "cookies": [{"name": "s", "value": t}]}
    }]}});
    let (_, tokens, summary) = scan_json(&["-"], Some(har.to_string()));
    assert_eq!(summary["occurrences"], 3, "{summary}");
    let parts = parts_of(&tokens[0]);
    assert_eq!(
        parts,
        [
            "request URL",
            "request header Cookie",
            "response header Set-Cookie"
        ]
    );
    // HTTP/2's :path pseudo-header repeats the URL's path and query, and
    // the query string holds the URL's parameters percent-decoded.
    let har = json!({"log": {"entries": [{
        "request": {"method": "GET", "url": format!("https://a.example/x?auth=Bearer%20{t}"),
            "headers": [{"name": ":path", "value": format!("/x?auth=Bearer%20{t}")}],
            "queryString": [{"name": "auth", "value": format!("Bearer {t}")}]}
    }]}});
    let (_, tokens, summary) = scan_json(&["-"], Some(har.to_string()));
    assert_eq!(summary["occurrences"], 1, "{summary}");
    assert_eq!(parts_of(&tokens[0]), ["request URL"]);
    // The same with a fragment on the URL, and a form body whose params
    // are written decoded.
    let har = json!({"log": {"entries": [{
        "request": {"method": "POST", "url": format!("https://a.example/x?auth=Bearer%20{t}#top"),
            "headers": [{"name": ":path", "value": format!("/x?auth=Bearer%20{t}")}],
            "postData": {"text": format!("assertion=Bearer+{t}&x=1"),
                         "params": [{"name": "assertion", "value": format!("Bearer {t}")}]}}
    }]}});
    let (_, tokens, summary) = scan_json(&["-"], Some(har.to_string()));
    assert_eq!(summary["occurrences"], 2, "{summary}");
    assert_eq!(parts_of(&tokens[0]), ["request URL", "request body"]);
    // A body that writes the token's dots `%2E`, with the param decoded:
    // found once, in the body searched decoded.
    let enc = t.replace('.', "%2E");
    let har = json!({"log": {"entries": [{
        "request": {"method": "POST", "url": "https://a.example/token",
            "postData": {"text": format!("grant_type=x&client_assertion={enc}"),
                         "params": [{"name": "client_assertion", "value": t}]}}
    }]}});
    let (_, tokens, summary) = scan_json(&["-"], Some(har.to_string()));
    assert_eq!(summary["occurrences"], 1, "{summary}");
    assert_eq!(parts_of(&tokens[0]), ["request body"]);
}

#[test]
fn har_copies_are_searched_when_the_url_and_headers_lack_the_token() {
    // A sanitiser dropped the URL's query and the cookie headers but kept
    // HAR's parsed copies.
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    // The response's Location holds the token too: the copies are
    // compared with what they were parsed from, not with every field.
    let har = json!({"log": {"entries": [{
        "request": {"method": "GET", "url": "https://a.example/x",
            "queryString": [{"name": "access_token", "value": t}],
            "cookies": [{"name": "session", "value": t}]},
        "response": {"cookies": [{"name": "s", "value": t}],
            "headers": [{"name": "Location", "value": format!("https://a.example/#t={t}")}]}
    }]}});
    let (_, tokens, summary) = scan_json(&["-"], Some(har.to_string()));
    assert_eq!(summary["occurrences"], 4, "{summary}");
    let parts = parts_of(&tokens[0]);
    assert_eq!(
        parts,
        [
            "response header Location",
            "request query parameter access_token",
            "request cookie session",
            "response cookie s"
        ]
    );
}

#[test]
fn a_har_location_never_shows_a_token_the_finder_missed() {
    // In the URL path with its dots percent-encoded, or followed by
    // `.json`, or as a member name: shown as <token>, never whole, in every
    // format. A user:password in a scheme-relative URL is dropped too.
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let encoded = t.replace('.', "%2E");
    let har = json!({"log": {"entries": [
        {"request": {"method": "GET", "url": format!("https://a.example/sessions/{encoded}/refresh"),
            "headers": [{"name": "Authorization", "value": format!("Bearer {t}")}]}},
        {"request": {"method": "GET", "url": format!("https://a.example/cache/{t}.json")}},
        {"request": {"method": "GET", "url": "//admin:Hunter2Secret@a.example/x",
            "headers": [{"name": "Authorization", "value": format!("Bearer {t}")},
                        {"name": format!("Authorization: Bearer {t}"), "value": format!("Bearer {t}")}]},
         "_custom": {t: t}},
        {"request": {"method": "GET", "url": "https://a.example/api/surveyJsonConfigurationSettings/v1",
            "headers": [{"name": "Authorization", "value": format!("Bearer {t}")}]}}
    ]}});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("leak.har");
    std::fs::write(&file, har.to_string()).unwrap();
    let (_, sig) = t.rsplit_once('.').unwrap();
    for format in ["json", "junit", "human"] {
        let out = mdeauth()
            .args(["scan", "--no-verify", "--at", AT, "--format", format])
            .arg(&file)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !all.contains(&sig[..24]),
            "{format} shows the signature: {all}"
        );
        assert!(!all.contains("Hunter2Secret"), "{format}: {all}");
    }
    let (_, tokens, _) = scan_json(&[file.to_str().unwrap()], None);
    let urls: Vec<&str> = tokens[0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["url"].as_str())
        .collect();
    assert!(
        urls.contains(&"https://a.example/sessions/<token>/refresh"),
        "{urls:?}"
    );
    assert!(
        urls.contains(&"https://a.example/cache/<token>"),
        "{urls:?}"
    );
    assert!(urls.contains(&"//a.example/x"), "{urls:?}");
    // Ordinary words holding `eyJ` are left alone.
    assert!(
        urls.contains(&"https://a.example/api/surveyJsonConfigurationSettings/v1"),
        "{urls:?}"
    );
}

#[test]
fn a_har_parse_error_note_never_quotes_a_value() {
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let (_, sig) = t.rsplit_once('.').unwrap();
    let har = json!({"log": {"entries": format!("Bearer {t}")}}).to_string();
    let (_, _, summary) = scan_json(&["-"], Some(har));
    let note = summary["notes"][0].as_str().unwrap();
    assert!(
        note.contains("not a complete HAR document (invalid type: string \"…\""),
        "{note}"
    );
    assert!(!note.contains(sig), "{note}");
}

#[cfg(unix)]
#[test]
fn in_a_folder_a_broken_link_or_a_failing_read_is_a_note_not_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let t = fixture_text("tokens/app-v1.jwt");
    std::fs::write(dir.path().join("a.log"), format!("Bearer {}", t.trim())).unwrap();
    std::os::unix::fs::symlink(dir.path().join("gone.log"), dir.path().join("b.log")).unwrap();
    // A file that opens but cannot be read (Linux: EIO on /proc/self/mem).
    let special = std::path::Path::new("/proc/self/mem");
    if special.exists() {
        std::os::unix::fs::symlink(special, dir.path().join("c.log")).unwrap();
    }
    let (code, tokens, summary) = scan_json(&[dir.path().to_str().unwrap()], None);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(tokens.len(), 1, "{summary}");
    let notes: Vec<&str> = summary["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("b.log is a broken link")),
        "{notes:?}"
    );
    if special.exists() {
        assert!(
            notes
                .iter()
                .any(|n| n.contains("c.log: reading stopped (cannot read")),
            "{notes:?}"
        );
    }
}

#[test]
fn jwe_only_input_is_encrypted_and_passes() {
    let jwe = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a2V5.aXY.Y2lwaGVy.dGFn";
    let (code, tokens, summary) = scan_json(&["-"], Some(format!("x-enc: {jwe}\n")));
    assert_eq!(code, 0);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["status"], "encrypted");
    assert_eq!(summary["by_status"]["encrypted"], 1);
    mdeauth()
        .args(["scan", "--no-verify", "-"])
        .write_stdin(format!("{jwe}\n"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("encrypted (JWE, not inspectable)"));
}

#[test]
fn verdicts_and_error_codes_match_inspect_for_every_fixture_token() {
    let names = [
        "app-v1",
        "delegated-v1",
        "app-v2",
        "app-no-roles",
        "graph-nonce",
        "id-token",
        "expired",
        "app-v1-rotated-key",
        "app-v1-app-key",
    ];
    let text: String = names
        .iter()
        .map(|n| format!("token {n}: {}\n", fixture_text(&format!("tokens/{n}.jwt"))))
        .collect();
    let (_, tokens, _) = scan_json(&["-"], Some(text));
    let m = by_fp(&tokens);
    for n in names {
        let out = mdeauth()
            .args(["inspect", "--format", "json", "--at", AT])
            .arg(fixture(&format!("tokens/{n}.jwt")))
            .output()
            .unwrap();
        let ins = json_out(&out);
        let fp = ins["token"]["fingerprint"].as_str().unwrap();
        let s = m.get(fp).unwrap_or_else(|| panic!("{n} not found by scan"));
        assert_eq!(s["verdict"], ins["verdict"], "{n}");
        let errors: Vec<&Value> = ins["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .map(|f| &f["code"])
            .collect();
        assert_eq!(s["errors"], json!(errors), "{n}");
        assert_eq!(s["resource"], ins["token"]["resource"], "{n}");
        assert_eq!(s["context"], ins["token"]["context"], "{n}");
    }
}

#[test]
fn many_failing_tokens_are_counted_per_error_and_a_rare_error_is_still_shown() {
    // 30 distinct expired tokens (an old log), then one token for Graph.
    let key = common::main_key();
    let mut text = String::new();
    for i in 0..30 {
        let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
        c["uti"] = json!(format!("expired{i:02}"));
        c["iat"] = json!(mint::T0 - 600 - mint::LIFETIME);
        c["nbf"] = c["iat"].clone();
        c["exp"] = json!(mint::T0 - 600);
        text.push_str(&format!(
            "Authorization: Bearer {}\n",
            mint::sign(&key, &key.v1_header(), &c)
        ));
    }
    let mut graph = mint::v1_app_claims(&["Machine.Read.All"]);
    graph["aud"] = json!("https://graph.microsoft.com");
    text.push_str(&format!(
        "Authorization: Bearer {}\n",
        mint::sign(&key, &key.v1_header(), &graph)
    ));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("old.log");
    std::fs::write(&log, &text).unwrap();
    let log = log.display().to_string();

    let (code, human) = scan_human(&[&log]);
    assert_eq!(code, 1);
    assert!(
        human.contains(&format!(
            "Error{}tokens\n  {:<42} {:>6}\n  {:<42} {:>6}\n",
            " ".repeat(40),
            "token.expired",
            30,
            "aud.not_mde",
            1
        )),
        "{human}"
    );
    // 20 described: the first expired token, the Graph one (its error is
    // rare but shown), and the next 18 expired ones; 11 are only counted.
    assert_eq!(human.matches("✗ sha256:").count(), 20, "{human}");
    assert!(human.contains(&format!("at {log}:31\n")), "{human}");
    assert!(human.contains(&format!("at {log}:19\n")), "{human}");
    assert!(!human.contains(&format!("at {log}:20\n")), "{human}");
    assert!(
        human.contains("and 11 more failing token(s): the Error table counts them, and --format json lists every one"),
        "{human}"
    );
    assert!(human.contains("Verdict: FAIL (31 of 31 inspectable token(s) fail)"));

    let (_, tokens, summary) = scan_json(&[&log], None);
    assert_eq!(tokens.len(), 31, "JSON lists every token");
    assert_eq!(
        summary["by_error"],
        json!({"aud.not_mde": 1, "token.expired": 30})
    );
}

#[test]
fn long_summary_tables_show_the_largest_rows_then_one_line_for_the_rest() {
    // 25 apps: app-00 has three distinct tokens, the others one each.
    let key = common::main_key();
    let mut text = String::new();
    for i in 0..27u32 {
        let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
        c["appid"] = json!(format!("app-{:02}", i.saturating_sub(2)));
        c["uti"] = json!(format!("u{i:02}"));
        text.push_str(&mint::sign(&key, &key.v1_header(), &c));
        text.push('\n');
    }
    let out = mdeauth()
        .args(["scan", "--no-verify", "--at", AT, "-"])
        .write_stdin(text.clone())
        .output()
        .unwrap();
    let human = String::from_utf8(out.stdout).unwrap();
    let app_table: Vec<&str> = human
        .split("\nApp ")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(app_table.len(), 21, "{human}");
    assert_eq!(app_table[0], format!("  {:<42} {:>6}", "app-00", 3));
    assert_eq!(app_table[1], format!("  {:<42} {:>6}", "app-01", 1));
    assert_eq!(
        app_table[20],
        format!(
            "  {:<42} {:>6}",
            "(5 more values; --format json lists all)", 5
        )
    );
    let (_, _, summary) = scan_json(&["-"], Some(text));
    assert_eq!(summary["by_app"].as_object().unwrap().len(), 25);
}

#[test]
fn tokens_failing_only_by_expiry_get_a_note_about_at_unless_it_was_given() {
    // The fixtures were issued on 2026-03-02: now, both tokens of app.log
    // have expired, and expiry is their only error.
    let log = path("scan/app.log");
    let note = "2 token(s) fail only because they have expired by now: a log keeps old tokens, so to judge them as of when they were used, run again with --at and the time of the log lines (RFC 3339, e.g. --at 2026-03-02T09:30:00Z)";
    let out = mdeauth()
        .args(["scan", "--no-verify", "--format", "json", &log])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let summary: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(summary["notes"], json!([note]), "{text}");
    mdeauth()
        .args(["scan", "--no-verify", &log])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!("  note: {note}\n")));
    // With --at, the expired token is judged as asked: no note.
    let (code, _, summary) = scan_json(&[&log], None);
    assert_eq!(code, 1);
    assert_eq!(summary["notes"], json!([]));
}

#[test]
fn human_output_has_tables_problems_with_locations_and_no_full_token() {
    let app = fixture_text("tokens/app-v1.jwt");
    let exp = fixture_text("tokens/expired.jwt");
    let log = path("scan/app.log");
    let (code, text) = scan_human(&[&log]);
    assert_eq!(code, 1);
    assert!(
        text.contains("Found 4 token occurrence(s), 2 unique token(s)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("  {:<42} {:>6}", "mde", 2)),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Audience{}tokens\n  {:<42} {:>6}",
            " ".repeat(37),
            "https://api.securitycenter.microsoft.com",
            2
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("  {:<42} {:>6}", mint::APP, 2)),
        "{text}"
    );
    assert!(text.contains("Problems"));
    assert!(text.contains(&format!("✗ {}", fp_of("expired"))), "{text}");
    assert!(text.contains("token.expired"));
    assert!(text.contains(&format!("at {log}:6")), "{text}");
    assert!(text.contains("Verdict: FAIL (1 of 2 inspectable token(s) fail)"));
    for secret in [&app, &exp] {
        assert!(!text.contains(secret.as_str()), "a full token was printed");
        // Not even the signature part.
        let sig = secret.rsplit('.').next().unwrap();
        assert!(!text.contains(sig));
    }
}

#[test]
fn all_pass_exits_zero_and_stdin_dash_works() {
    let app = fixture_text("tokens/app-v1.jwt");
    let input = format!("a\nAuthorization: Bearer {app}\nb\nBearer {app}\nc {app}\n");
    let (code, tokens, summary) = scan_json(&["-"], Some(input.clone()));
    assert_eq!(code, 0);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["occurrences"], 3);
    let lines: Vec<&Value> = tokens[0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["line"])
        .collect();
    assert_eq!(lines, [&json!(2), &json!(4), &json!(5)]);
    assert_eq!(tokens[0]["locations"][0]["file"], "<stdin>");
    assert_eq!(summary["verdict"], "pass");
    mdeauth()
        .args(["scan", "--no-verify", "--at", AT, "-"])
        .write_stdin(input)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Verdict: PASS (0 of 1 inspectable token(s) fail)",
        ));
}

#[test]
fn at_and_leeway_apply() {
    let app = fixture_text("tokens/app-v1.jwt");
    // Expires 2026-03-02T10:15:00Z; at 10:17 it is within the 300 s leeway, not within 60 s.
    let run = |leeway: &str| {
        let out = mdeauth()
            .args([
                "scan",
                "--no-verify",
                "--format",
                "json",
                "--at",
                "2026-03-02T10:17:00Z",
            ])
            .args(["--leeway", leeway, "-"])
            .write_stdin(app.clone())
            .output()
            .unwrap();
        let first: Value = serde_json::from_str(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        (out.status.code().unwrap(), first["verdict"].clone())
    };
    assert_eq!(run("300"), (0, json!("pass")));
    assert_eq!(run("60"), (1, json!("fail")));
}

#[test]
fn no_tokens_found_exits_zero_with_a_note() {
    mdeauth()
        .args(["scan", "--no-verify", "-"])
        .write_stdin("nothing to see here\neyJ but not a token\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No tokens found."));
    let (code, tokens, summary) = scan_json(&["-"], Some("plain\n".into()));
    assert_eq!(code, 0);
    assert!(tokens.is_empty());
    assert_eq!(summary["unique_tokens"], 0);
    assert_eq!(summary["bytes"], 6);
}

#[test]
fn nonexistent_or_directory_input_exits_two_before_any_output() {
    let missing = path("scan/no-such-file.log");
    mdeauth()
        .args(["scan", "--no-verify", &path("scan/app.log"), &missing])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(format!(
            "mdeauth: error: cannot read {missing}"
        )));
    // A relative path of any extension is named back as written.
    mdeauth()
        .args(["scan", "--no-verify", "logs/app.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "mdeauth: error: cannot read logs/app.jsonl: ",
        ));
    // A device never ends (or is a terminal): refused, not read forever.
    #[cfg(unix)]
    mdeauth()
        .args(["scan", "--no-verify", "/dev/zero"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr("mdeauth: error: cannot read /dev/zero: it is a device, not a file or pipe; give files, or - to read standard input\n");
    #[cfg(unix)]
    mdeauth()
        .args(["scan", "--no-verify", "/dev/null"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No tokens found."));
}

#[test]
fn truncated_har_keeps_earlier_entries_and_says_so() {
    let har = std::fs::read_to_string(fixture("scan/capture.har")).unwrap();
    // Cut inside entry 2: entries 0 and 1 are complete.
    let cut = har.find("client_credentials").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.har");
    std::fs::write(&p, &har[..cut]).unwrap();
    let (_, tokens, summary) = scan_json(&[p.to_str().unwrap()], None);
    assert_eq!(tokens.len(), 4, "app-v1, delegated, app-v2, id token");
    let note = summary["notes"][0].as_str().unwrap();
    assert!(note.contains("not a complete HAR document"), "{note}");
    assert!(
        note.contains("the 2 entries before that point were scanned"),
        "{note}"
    );
}

#[test]
fn very_long_lines_are_searched_in_chunks() {
    let app = fixture_text("tokens/app-v1.jwt");
    // A 3 MB line with the token in the middle and at the end, then a short line.
    let pad = "z ".repeat(750_000);
    let input = format!("{pad}{app} {pad}{app}\nnext {app}\n");
    let (_, tokens, _) = scan_json(&["-"], Some(input));
    assert_eq!(tokens[0]["occurrences"], 3);
    let lines: Vec<&Value> = tokens[0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["line"])
        .collect();
    assert_eq!(lines, [&json!(1), &json!(1), &json!(2)]);
}

#[test]
fn one_long_token_like_run_across_blocks_is_counted_once() {
    // 6 MiB of `eyJ` with no separator: one run, whatever the block edges,
    // and the token after it is still found.
    let app = fixture_text("tokens/app-v1.jwt");
    let input = format!("{} {app}", "eyJ".repeat(2 * 1024 * 1024));
    let (_, tokens, summary) = scan_json(&["-"], Some(input));
    assert_eq!(tokens.len(), 1, "{summary}");
    assert_eq!(
        summary["notes"][0],
        "<stdin>: skipped 1 token-like run(s) longer than 64 KB"
    );
}

#[test]
fn locations_are_capped_at_twenty_and_flagged() {
    let app = fixture_text("tokens/app-v1.jwt");
    let input = format!("Bearer {app}\n").repeat(25);
    let (_, tokens, summary) = scan_json(&["-"], Some(input));
    assert_eq!(tokens[0]["occurrences"], 25);
    assert_eq!(tokens[0]["locations"].as_array().unwrap().len(), 20);
    assert_eq!(tokens[0]["locations"][19]["line"], 20);
    assert_eq!(tokens[0]["locations_truncated"], true);
    assert_eq!(summary["occurrences"], 25);
    assert_eq!(summary["unique_tokens"], 1);
}

#[test]
fn human_har_locations_name_entry_method_url_and_part() {
    let har = path("scan/capture.har");
    let (code, text) = scan_human(&[&har]);
    assert_eq!(code, 1);
    assert!(
        text.contains(&format!(
            "at {har} entry 4 GET https://api.securitycenter.microsoft.com/api/machines (request URL)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "at {har} entry 2 POST https://login.microsoftonline.com/{}/oauth2/v2.0/token (response body (base64))",
            mint::TENANT
        )),
        "{text}"
    );
    assert!(text.contains("encrypted (JWE, not inspectable)"));
    assert!(text.contains("Verdict: FAIL (3 of 6 inspectable token(s) fail)"));
    assert!(!text.contains(&fixture_text("tokens/expired.jwt")));
}

#[test]
fn no_file_argument_reads_standard_input() {
    let app = fixture_text("tokens/app-v1.jwt");
    let out = mdeauth()
        .args(["scan", "--no-verify", "--format", "json", "--at", AT])
        .write_stdin(format!("x\n{app}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let first: Value = serde_json::from_str(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["locations"], json!([{"file": "<stdin>", "line": 2}]));
}

// ---------- verification and plans (same verdicts as `verify` and `check`) ----------

const TOKENS: [&str; 9] = [
    "app-v1",
    "delegated-v1",
    "app-v2",
    "app-no-roles",
    "graph-nonce",
    "id-token",
    "expired",
    "app-v1-rotated-key",
    "app-v1-app-key",
];

/// A log holding every fixture token once.
fn all_tokens_log(dir: &std::path::Path) -> String {
    let p = dir.join("all.log");
    let text: String = TOKENS
        .iter()
        .map(|t| {
            format!(
                "2026-03-02T09:30:00Z GET /api/machines Authorization: Bearer {}\n",
                fixture_text(&format!("tokens/{t}.jwt"))
            )
        })
        .collect();
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn verdicts_by_fingerprint(args: &[&str], log: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let (_, tokens, _) = scan_json_raw(args, log);
    tokens
        .iter()
        .map(|t| {
            let mut errs: Vec<String> = t["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            errs.sort();
            (
                t["fingerprint"].as_str().unwrap().to_string(),
                (t["verdict"].as_str().unwrap().to_string(), errs),
            )
        })
        .collect()
}

fn scan_json_raw(args: &[&str], log: &str) -> (i32, Vec<Value>, Value) {
    let out = mdeauth()
        .args(["scan", "--format", "json", "--at", AT])
        .args(args)
        .arg(log)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = lines.pop().unwrap();
    (out.status.code().unwrap(), lines, summary)
}

fn single(cmd: &str, args: &[&str], token: &str) -> (String, Vec<String>) {
    let out = mdeauth()
        .args([cmd, "--format", "json", "--at", AT])
        .args(args)
        .arg(fixture(&format!("tokens/{token}.jwt")))
        .output()
        .unwrap();
    let v = json_out(&out);
    let mut errs: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    errs.sort();
    errs.dedup();
    (v["verdict"].as_str().unwrap().to_string(), errs)
}

#[test]
fn verified_scan_agrees_with_verify_on_every_fixture_token() {
    let dir = tempfile::tempdir().unwrap();
    let log = all_tokens_log(dir.path());
    let jwks = fixture("keys/jwks.json");
    let jwks = jwks.to_str().unwrap();
    let scanned = verdicts_by_fingerprint(&["--jwks", jwks], &log);
    assert_eq!(scanned.len(), TOKENS.len());
    for t in TOKENS {
        let fp = fp_of(t);
        let (verdict, mut errs) = single("verify", &["--jwks", jwks], t);
        errs.dedup();
        let (sv, mut serrs) = scanned[&fp].clone();
        serrs.dedup();
        assert_eq!(sv, verdict, "{t}");
        assert_eq!(serrs, errs, "{t}");
    }
    // The token signed by a key outside the set fails only when verified.
    let rotated = &scanned[&fp_of("app-v1-rotated-key")];
    assert_eq!(rotated.0, "fail");
    assert!(rotated.1.contains(&"signature.key_not_found".to_string()));
}

#[test]
fn scan_with_calls_agrees_with_check() {
    let dir = tempfile::tempdir().unwrap();
    let log = all_tokens_log(dir.path());
    let calls = [
        "--call",
        "GET /api/machines",
        "--call",
        "POST /api/machines/{id}/isolate",
    ];
    let mut args = vec!["--no-verify"];
    args.extend(calls);
    let scanned = verdicts_by_fingerprint(&args, &log);
    for t in TOKENS {
        let (verdict, _) = single("check", &args, t);
        assert_eq!(scanned[&fp_of(t)].0, verdict, "{t}");
    }
    // app-v2 has Machine.Read.All but not Machine.Isolate: denied by its call finding.
    let v2 = &scanned[&fp_of("app-v2")];
    assert_eq!(v2.0, "fail");
    assert!(v2.1.contains(&"call.denied".to_string()), "{v2:?}");
    // app-v1 carries both.
    assert_eq!(scanned[&fp_of("app-v1")].0, "pass");
}

#[test]
fn scan_with_a_plan_denies_the_calls_check_denies_for_the_same_reasons() {
    // A delegated token in an application plan, a Graph token and an ID
    // token fail every call, for that reason, in scan as in check.
    let dir = tempfile::tempdir().unwrap();
    let log = all_tokens_log(dir.path());
    let plan = fixture("plans/soc-automation.toml");
    let plan = plan.to_str().unwrap();
    let args = ["--no-verify", "--plan", plan];
    let (_, tokens, summary) = scan_json_raw(&args, &log);
    // The plan is named in the summary, in human output and in the JUnit
    // suite's name (a pipeline that scans for several apps merges them).
    assert_eq!(
        summary["plan"]["name"], "Contoso SOC automation",
        "{summary}"
    );
    assert_eq!(summary["plan"]["file"], plan, "{summary}");
    let out = mdeauth()
        .args(["scan", "--at", AT, "--no-verify", "--plan", plan])
        .arg(&log)
        .output()
        .unwrap();
    let human = String::from_utf8(out.stdout).unwrap();
    assert!(
        human.contains(" planned call(s) (plan \"Contoso SOC automation\") at "),
        "{human}"
    );
    let out = mdeauth()
        .args([
            "scan",
            "--at",
            AT,
            "--no-verify",
            "--format",
            "junit",
            "--plan",
            plan,
        ])
        .arg(&log)
        .output()
        .unwrap();
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(
        xml.contains(r#"<testsuite name="mdeauth scan (Contoso SOC automation)""#),
        "{xml}"
    );
    // Also when nothing is found.
    let out = mdeauth()
        .args(["scan", "--at", AT, "--no-verify", "--plan", plan, "-"])
        .write_stdin("no tokens here\n")
        .output()
        .unwrap();
    let human = String::from_utf8(out.stdout).unwrap();
    assert!(
        human.contains("No tokens found (plan \"Contoso SOC automation\")."),
        "{human}"
    );
    for t in TOKENS {
        let out = mdeauth()
            .args(["check", "--format", "json", "--at", AT])
            .args(args)
            .arg(fixture(&format!("tokens/{t}.jwt")))
            .output()
            .unwrap();
        let checked = json_out(&out);
        let denied: Vec<String> = checked["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["allowed"] == false)
            .map(|c| c["reason"].as_str().unwrap().to_string())
            .collect();
        let scanned = tokens
            .iter()
            .find(|x| x["fingerprint"] == fp_of(t).as_str())
            .unwrap();
        let messages: Vec<String> = scanned["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "call.denied")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            messages.len(),
            denied.len(),
            "{t}: {messages:?} vs {denied:?}"
        );
        if ["delegated-v1", "graph-nonce", "id-token"].contains(&t) {
            assert_eq!(denied.len(), 4, "{t}");
            for (m, why) in messages.iter().zip(&denied) {
                assert!(
                    m.ends_with(&format!("is not allowed: {why}")),
                    "{t}: {m} / {why}"
                );
            }
        }
    }
}

#[test]
fn scan_with_a_plan_gives_checks_findings_too() {
    // Least privilege and the calls' warnings, as `check` gives them: a
    // scan over logs is also a least-privilege audit.
    let dir = tempfile::tempdir().unwrap();
    let log = all_tokens_log(dir.path());
    for (plan, t) in [
        ("plans/export-daemon.toml", "app-v1"),
        ("plans/analyst-portal.toml", "delegated-v1"),
    ] {
        let plan = fixture(plan);
        let args = ["--no-verify", "--plan", plan.to_str().unwrap()];
        let (_, tokens, _) = scan_json_raw(&args, &log);
        let out = mdeauth()
            .args(["check", "--format", "json", "--at", AT])
            .args(args)
            .arg(fixture(&format!("tokens/{t}.jwt")))
            .output()
            .unwrap();
        let codes = |v: &Value| -> Vec<String> {
            let mut c: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["severity"] != "info" && f["code"] != "call.denied")
                .map(|f| format!("{} {}", f["code"], f["message"]))
                .collect();
            c.sort();
            c
        };
        let checked = codes(&json_out(&out)["findings"]);
        assert!(
            checked
                .iter()
                .any(|c| c.contains("perm.unused") || c.contains("call.user_rbac")),
            "{t}: {checked:?}"
        );
        let scanned = tokens
            .iter()
            .find(|x| x["fingerprint"] == fp_of(t).as_str())
            .unwrap();
        assert_eq!(codes(&scanned["findings"]), checked, "{t}");
    }
}

#[test]
fn scan_reports_a_context_mismatch_as_check_does() {
    let dir = tempfile::tempdir().unwrap();
    let log = all_tokens_log(dir.path());
    let args = [
        "--no-verify",
        "--context",
        "application",
        "--call",
        "GET /api/machines",
    ];
    let (_, tokens, _) = scan_json_raw(&args, &log);
    let mismatch = |findings: &Value| -> Vec<Value> {
        findings
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "check.context_mismatch")
            .cloned()
            .collect()
    };
    let scanned = tokens
        .iter()
        .find(|t| t["fingerprint"] == fp_of("delegated-v1").as_str())
        .unwrap();
    let out = mdeauth()
        .args(["check", "--format", "json", "--at", AT])
        .args(args)
        .arg(fixture("tokens/delegated-v1.jwt"))
        .output()
        .unwrap();
    let checked = mismatch(&json_out(&out)["findings"]);
    assert_eq!(checked.len(), 1);
    assert_eq!(
        checked[0]["message"],
        "the app is meant to work in application context but this is a delegated token"
    );
    assert_eq!(mismatch(&scanned["findings"]), checked);
    // An application token in an application plan has no such finding.
    let app = tokens
        .iter()
        .find(|t| t["fingerprint"] == fp_of("app-v1").as_str())
        .unwrap();
    assert!(mismatch(&app["findings"]).is_empty());
}

/// `scan --format json` of `log` with keys discovered at `authority`, a
/// cache under `dir`, and `extra` flags.
fn scan_with_authority(
    authority: &str,
    dir: &std::path::Path,
    log: &std::path::Path,
    extra: &[&str],
) -> (i32, Vec<Value>, Value) {
    let cache = dir.join("cache");
    let mut args = vec![
        "--authority-host",
        authority,
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    scan_json_raw(&args, log.to_str().unwrap())
}

/// The main tenant's v1 discovery on `server`, with the key set of the
/// fixture `jwks`: the metadata and key set mocks.
fn v1_discovery<'a>(
    server: &'a httpmock::MockServer,
    jwks: &str,
) -> (httpmock::Mock<'a>, httpmock::Mock<'a>) {
    let body = std::fs::read_to_string(fixture(jwks)).unwrap();
    let tid = mint::TENANT;
    let meta = server.mock(|when, then| {
        when.method("GET")
            .path(format!("/{tid}/.well-known/openid-configuration"));
        then.status(200).json_body(json!({
            "issuer": "https://sts.windows.net/{tenantid}/",
            "jwks_uri": server.url("/common/discovery/keys"),
        }));
    });
    let keys = server.mock(|when, then| {
        when.method("GET").path("/common/discovery/keys");
        then.status(200).body(body);
    });
    (meta, keys)
}

#[test]
fn keys_are_fetched_once_per_issuer() {
    // Three distinct tokens from one issuer: one discovery and one JWKS fetch.
    let server = httpmock::MockServer::start();
    let (meta, keys) = v1_discovery(&server, "keys/jwks.json");
    let key = common::main_key();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("three.log");
    let text: String = (0..3)
        .map(|i| {
            let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
            c["uti"] = json!(format!("distinct{i}"));
            format!("token {}\n", mint::sign(&key, &key.v1_header(), &c))
        })
        .collect();
    std::fs::write(&log, text).unwrap();
    let (code, tokens, _) = scan_with_authority(&server.base_url(), dir.path(), &log, &[]);
    assert_eq!(code, 0, "{tokens:?}");
    assert_eq!(tokens.len(), 3);
    meta.assert_calls(1);
    keys.assert_calls(1);
}

/// gzip of `data`, one member.
fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Token objects by fingerprint, with every location's file renamed, to
/// compare a scan of a compressed copy with a scan of the original.
fn relocated(tokens: &[Value]) -> BTreeMap<String, Value> {
    let mut m = by_fp(tokens);
    for t in m.values_mut() {
        for l in t["locations"].as_array_mut().unwrap() {
            l["file"] = json!("f");
        }
    }
    m
}

/// Byte offset just after the `n`th line of `text`.
fn after_line(text: &[u8], n: usize) -> usize {
    text.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(n - 1)
        .unwrap()
        .0
        + 1
}

#[test]
fn gzip_logs_and_har_give_the_same_tokens_lines_and_entries_as_their_text() {
    let dir = tempfile::tempdir().unwrap();
    // The HAR copy is not named .har: it is told by its decompressed content.
    for (src, name) in [
        ("scan/app.log", "app.log.1.gz"),
        ("scan/app.jsonl", "app.jsonl.gz"),
        ("scan/capture.har", "capture.gz"),
    ] {
        let text = std::fs::read(fixture(src)).unwrap();
        let gz = dir.path().join(name);
        std::fs::write(&gz, gzip(&text)).unwrap();
        let gz = gz.to_str().unwrap();
        let (code_text, text_tokens, _) = scan_json(&[&path(src)], None);
        let (code, tokens, summary) = scan_json(&[gz], None);
        assert!(!tokens.is_empty(), "{name}");
        assert_eq!(code, code_text, "{name}");
        assert_eq!(relocated(&tokens), relocated(&text_tokens), "{name}");
        assert_eq!(tokens[0]["locations"][0]["file"], gz);
        // `bytes` counts what was read; a whole gzip stream needs no note.
        assert_eq!(summary["bytes"], std::fs::metadata(gz).unwrap().len());
        assert_eq!(summary["notes"], json!([]));
    }
}

#[test]
fn gzip_on_standard_input_in_two_members_keeps_line_numbers() {
    let text = std::fs::read(fixture("scan/app.log")).unwrap();
    // `cat a.gz b.gz`: two members, split after line 4, read as one text.
    let cut = after_line(&text, 4);
    let mut both = gzip(&text[..cut]);
    both.extend(gzip(&text[cut..]));
    let (code, tokens, summary) = scan_json_bytes(&["-"], Some(both));
    let (_, text_tokens, _) = scan_json(&[&path("scan/app.log")], None);
    assert_eq!(code, 1);
    assert_eq!(relocated(&tokens), relocated(&text_tokens));
    let app = &by_fp(&tokens)[&fp_of("app-v1")];
    assert_eq!(
        app["locations"],
        json!([{"file": "<stdin>", "line": 2}, {"file": "<stdin>", "line": 5}, {"file": "<stdin>", "line": 9}])
    );
    assert_eq!(summary["notes"], json!([]));
}

#[test]
fn gzip_cut_short_or_damaged_is_scanned_up_to_that_point_and_noted() {
    let text = std::fs::read(fixture("scan/app.log")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Lines 1-5 in a whole member; the second member ends after its header.
    let cut = after_line(&text, 5);
    let mut data = gzip(&text[..cut]);
    data.extend(&gzip(&text[cut..])[..10]);
    let p = dir.path().join("rotating.log.gz");
    std::fs::write(&p, &data).unwrap();
    let p = p.to_str().unwrap();
    let (code, tokens, summary) = scan_json(&[p], None);
    // Only app-v1 (lines 2 and 5) is before the cut; the expired token on line 6 is not.
    assert_eq!(code, 0);
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(
        tokens[0]["locations"],
        json!([{"file": p, "line": 2}, {"file": p, "line": 5}])
    );
    let note = summary["notes"][0].as_str().unwrap();
    let prefix = format!("{p}: the gzip data is damaged or cut short (");
    let suffix = format!(
        "); the {cut} bytes of text before that point were scanned (a token cut off there is left out)"
    );
    assert!(
        note.starts_with(&prefix) && note.ends_with(&suffix),
        "{note}"
    );

    // A gzip header followed by data that is not deflate: nothing to scan, said so.
    let mut bad = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03".to_vec();
    bad.extend([0xff; 64]);
    let (code, tokens, summary) = scan_json_bytes(&["-"], Some(bad));
    assert_eq!(code, 0);
    assert!(tokens.is_empty());
    let note = summary["notes"][0].as_str().unwrap();
    assert!(
        note.starts_with("<stdin>: the gzip data is damaged or cut short (")
            && note.ends_with(
                "); the 0 bytes of text before that point were scanned (a token cut off there is left out)"
            ),
        "{note}"
    );
}

#[test]
fn a_token_cut_off_by_damaged_gzip_is_not_counted() {
    let app = fixture_text("tokens/app-v1.jwt");
    let expired = fixture_text("tokens/expired.jwt");
    let mut data = gzip(format!("l1\nBearer {app}\n").as_bytes());
    let second = gzip(format!("l3\nl4\nBearer {expired}\n").as_bytes());
    // Cut inside the second member's deflate data: its text stops mid-token.
    data.extend(&second[..second.len() - 20]);
    let (code, tokens, summary) = scan_json_bytes(&["-"], Some(data));
    assert_eq!(code, 0, "{tokens:?}");
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0]["fingerprint"], fp_of("app-v1"));
    assert_eq!(summary["occurrences"], 1);
    assert!(
        summary["notes"][0]
            .as_str()
            .unwrap()
            .ends_with("(a token cut off there is left out)"),
        "{summary}"
    );
}

#[test]
fn other_compressed_formats_exit_two_with_the_command_that_decompresses_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = path("scan/app.log");
    let cases: [(&str, &[u8], &str, &str); 5] = [
        (
            "app.log.zst",
            b"\x28\xb5\x2f\xfd\x04\x58",
            "zstd",
            "zstdcat",
        ),
        ("app.log.xz", b"\xfd7zXZ\x00\x00\x04", "xz", "xzcat"),
        ("app.log.bz2", b"BZh91AY&SY\x12\x34", "bzip2", "bzcat"),
        ("logs.zip", b"PK\x03\x04\x14\x00\x00\x00", "zip", "unzip -p"),
        (
            "logs.7z",
            b"7z\xbc\xaf\x27\x1c\x00\x04",
            "7-Zip",
            "7z e -so",
        ),
    ];
    for (name, bytes, format, tool) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let p = p.to_str().unwrap();
        // Even after a readable file: nothing is printed, exit 2.
        mdeauth()
            .args(["scan", "--no-verify", &log, p])
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(format!(
                "mdeauth: error: {p} holds {format} data, which scan does not decompress; \
                 decompress it and pipe it in: {tool} {p} | mdeauth scan -\n"
            ));
    }
    mdeauth()
        .args(["scan", "--no-verify", "-"])
        .write_stdin(b"\xfd7zXZ\x00\x00\x04".to_vec())
        .assert()
        .code(2)
        .stderr(
            "mdeauth: error: <stdin> holds xz data, which scan does not decompress; \
             decompress it before piping it in: ... | xzcat | mdeauth scan -\n",
        );
    // Text that only starts like a signature is text.
    let token = fixture_text("tokens/app-v1.jwt");
    let (code, tokens, summary) = scan_json(
        &["-"],
        Some(format!("PK: primary key\nBZh1 {}\n", token.trim())),
    );
    assert_eq!(code, 0);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["locations"][0]["line"], 2);
    assert_eq!(summary["notes"], json!([]));
}

/// Each `(name, bytes)` file, scanned, gives the exit code and tokens (with
/// their lines) that scanning the text gave, and no notes.
fn assert_same_scan_as_text(files: &[(&str, Vec<u8>)], code_text: i32, text_tokens: &[Value]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let (code, tokens, summary) = scan_json(&[p.to_str().unwrap()], None);
        assert_eq!(code, code_text, "{name}");
        assert_eq!(relocated(&tokens), relocated(text_tokens), "{name}");
        assert_eq!(summary["notes"], json!([]), "{name}");
    }
}

#[test]
fn utf16_logs_and_har_give_the_same_tokens_and_lines_gzipped_or_not() {
    // Windows PowerShell 5.1's `>` and Out-File write UTF-16LE with a BOM.
    let text = fixture_text("scan/app.log");
    let (code_text, text_tokens, _) = scan_json(&[&path("scan/app.log")], None);
    let utf16 = utf16le_bom(&text);
    let files = [("ps.log", utf16.clone()), ("ps.log.gz", gzip(&utf16))];
    assert_same_scan_as_text(&files, code_text, &text_tokens);
    let har = fixture_text("scan/capture.har");
    let (_, har_tokens, _) = scan_json(&[&path("scan/capture.har")], None);
    let (_, tokens, _) = scan_json_bytes(&["-"], Some(utf16le_bom(&har)));
    assert_eq!(relocated(&tokens), relocated(&har_tokens));
}

#[test]
fn utf16_logs_without_a_mark_give_the_same_tokens_and_lines() {
    // A UTF-16 log cut by size, or its tail, has no byte-order mark.
    let text = fixture_text("scan/app.log");
    let (code_text, text_tokens, _) = scan_json(&[&path("scan/app.log")], None);
    assert!(!text_tokens.is_empty());
    let le = utf16le_bom(&text)[2..].to_vec();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let files = [
        ("le.log", le.clone()),
        ("be.log", be),
        ("le.log.gz", gzip(&le)),
    ];
    assert_same_scan_as_text(&files, code_text, &text_tokens);
    // Bytes that only start with a few UTF-16 characters are still searched
    // byte for byte: the token after them is found.
    let token = fixture_text("tokens/app-v1.jwt");
    let mut mixed = utf16le_bom("id=7")[2..].to_vec();
    mixed.extend(format!(" Bearer {}\n", token.trim()).as_bytes());
    let (_, tokens, _) = scan_json_bytes(&["-"], Some(mixed));
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["fingerprint"], fp_of("app-v1"));
}

/// The summary line of a `scan --format json` run that exited with `code`.
fn summary_of(out: &std::process::Output, code: i32) -> Value {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().expect("a summary line")).unwrap()
}

/// `dir/rel` with `bytes` in it, parent folders made.
fn put(dir: &std::path::Path, rel: &str, bytes: &[u8]) -> String {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

#[test]
fn a_directory_is_scanned_through_its_subfolders_and_skips_what_scan_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = put(d, "app.log", fixture_text("scan/app.log").as_bytes());
    let har = put(
        d,
        "captures/2026-03/capture.har.gz",
        &gzip(fixture_text("scan/capture.har").as_bytes()),
    );
    let zst = put(d, "captures/old.log.zst", b"\x28\xb5\x2f\xfd\x04\x58");
    put(d, "empty/.keep", b"");
    let (code, tokens, summary) = scan_json(&[d.to_str().unwrap()], None);
    assert_eq!(code, 1);
    // Four files found, in name order: app.log, the HAR, the skipped .zst, .keep.
    assert_eq!(summary["inputs"], 4);
    let m = by_fp(&tokens);
    let app = &m[&fp_of("app-v1")];
    assert_eq!(app["locations"][0], json!({"file": log, "line": 2}));
    assert_eq!(app["locations"][3]["file"], har);
    assert_eq!(app["locations"][3]["entry"], 0);
    // Every token of both files, once each.
    let (_, log_tokens, _) = scan_json(&[&path("scan/app.log")], None);
    let (_, har_tokens, _) = scan_json(&[&path("scan/capture.har")], None);
    let mut want: Vec<String> = by_fp(&log_tokens).into_keys().collect();
    want.extend(by_fp(&har_tokens).into_keys());
    want.sort();
    want.dedup();
    assert_eq!(m.keys().cloned().collect::<Vec<_>>(), want);
    assert_eq!(
        summary["notes"],
        json!([format!(
            "{zst}: skipped, it holds zstd data, which scan does not decompress \
             (decompress it and pipe it in: zstdcat {zst} | mdeauth scan -)"
        )])
    );
    // A directory with no files says so.
    let empty = d.join("empty");
    std::fs::remove_file(empty.join(".keep")).unwrap();
    let (code, tokens, summary) = scan_json(&[empty.to_str().unwrap()], None);
    assert_eq!((code, tokens.len()), (0, 0));
    assert_eq!(
        summary["notes"],
        json!([format!("{}: no files in it", empty.display())])
    );
}

#[test]
fn a_pattern_the_shell_passed_on_is_expanded() {
    // cmd.exe and PowerShell pass `logs\*.log` to the program as it is.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = put(d, "a.log", fixture_text("scan/app.log").as_bytes());
    put(d, "b.txt", fixture_text("scan/app.jsonl").as_bytes());
    let pattern = d.join("*.log").display().to_string();
    let (_, tokens, summary) = scan_json(&[&pattern], None);
    assert_eq!(summary["inputs"], 1);
    assert!(tokens.iter().all(|t| t["locations"][0]["file"] == a));
    assert_eq!(tokens.len(), 2);
    let none = d.join("*.gz").display().to_string();
    mdeauth()
        .args(["scan", "--no-verify", &none])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(format!(
            "mdeauth: error: no file matches {none}; check the directory and the pattern\n"
        ));
}

#[test]
fn thousands_of_files_need_one_open_file_at_a_time() {
    // 300 files under a limit of 64 open files (macOS allows 256 by default).
    let dir = tempfile::tempdir().unwrap();
    let token = fixture_text("tokens/app-v1.jwt");
    for i in 0..300 {
        put(
            dir.path(),
            &format!("f{i:03}.log"),
            format!("Bearer {}\n", token.trim()).as_bytes(),
        );
    }
    let bin = assert_cmd::cargo::cargo_bin("mdeauth");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" scan --no-verify --format json --at \"$1\" \"$2\"")
        .arg(&bin)
        .arg(AT)
        .arg(dir.path())
        .output()
        .unwrap();
    let summary = summary_of(&out, 0);
    assert_eq!(summary["inputs"], 300);
    assert_eq!(summary["occurrences"], 300);
    assert_eq!(summary["unique_tokens"], 1);
}

#[cfg(unix)]
#[test]
fn a_named_pipe_is_opened_once_and_read() {
    let mut cmd = mdeauth();
    cmd.args(["scan", "--no-verify", "--format", "json", "--at", AT]);
    // Checked before reading, the pipe must not be opened twice: a second
    // open would wait for a second writer.
    let out = common::run_on_pipe(cmd, fixture_text("scan/app.log"), 1);
    let summary = summary_of(&out, 1);
    assert_eq!(
        (
            summary["occurrences"].as_u64(),
            summary["unique_tokens"].as_u64()
        ),
        (Some(4), Some(2))
    );
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_is_scanned() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"bad\xff\xfename.log");
    let p = dir.path().join(name);
    std::fs::copy(fixture("scan/app.log"), &p).unwrap();
    let out = mdeauth()
        .args(["scan", "--no-verify", "--at", "2026-03-02T09:30:00Z"])
        .arg(&p)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Scanned 1 input(s)"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 unique token(s)"), "{stdout}");
}

#[test]
fn data_compressed_twice_is_named_not_searched_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::read(fixture("scan/app.log")).unwrap();
    let twice = dir.path().join("app.log.gz.gz");
    std::fs::write(&twice, gzip(&gzip(&log))).unwrap();
    let xz_in_gzip = dir.path().join("sub");
    std::fs::create_dir(&xz_in_gzip).unwrap();
    std::fs::write(
        xz_in_gzip.join("app.log.xz.gz"),
        gzip(b"\xfd7zXZ\x00\x00\x04 not really xz"),
    )
    .unwrap();
    // Named: exit 2, saying what to do.
    let out = mdeauth()
        .args(["scan", "--no-verify"])
        .arg(&twice)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds gzip-compressed gzip data, which scan does not read; decompress both layers: zcat "),
        "{err}"
    );
    // Found in a folder: a note, and the rest is scanned.
    let (code, _, summary) = scan_json(&[xz_in_gzip.to_str().unwrap()], None);
    assert_eq!(code, 0, "{summary}");
    let note = summary["notes"][0].as_str().unwrap();
    assert!(
        note.contains("app.log.xz.gz: skipped, it holds gzip-compressed xz data"),
        "{note}"
    );
}

#[test]
fn har_urls_are_kept_as_written_in_json_and_escaped_for_the_terminal() {
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let long = "a".repeat(300);
    let url = format!("https://x.example/\u{202e}]]>&<\u{7}\tp/{long}");
    let har = json!({"log": {"entries": [{
        "request": {"method": "GET", "url": format!("{url}?q=1"),
            "headers": [{"name": "Authorization", "value": format!("Bearer {t}")}]},
        "response": {}
    }]}});
    let (_, tokens, _) = scan_json(&["-"], Some(har.to_string()));
    // JSON: the characters as written (JSON escapes what it must), whole.
    assert_eq!(tokens[0]["locations"][0]["url"], json!(url));
    // Human output (the token expired by then, so its place is listed):
    // the bidi override and the bell escaped, never raw.
    let out = mdeauth()
        .args(["scan", "--no-verify", "--at", "2030-01-01T00:00:00Z", "-"])
        .write_stdin(har.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("entry 0 GET https://x.example/"), "{text}");
    // The screen clips what the JSON keeps whole.
    assert!(text.lines().all(|l| l.chars().count() < 400), "{text}");
    assert!(
        !text.contains('\u{202e}') && !text.contains('\u{7}'),
        "{text}"
    );
    // JUnit, which CI pages show, escapes it the same way.
    let out = mdeauth()
        .args(["scan", "--no-verify", "--format", "junit"])
        .args(["--at", "2030-01-01T00:00:00Z", "-"])
        .write_stdin(har.to_string())
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(
        xml.contains("first seen at &lt;stdin&gt; entry 0 GET https://x.example/"),
        "{xml}"
    );
    assert!(!xml.contains('\u{202e}'), "{xml}");
}

#[test]
fn junit_details_escape_what_a_token_carries() {
    // A bidi override in a claim reaches the finding's message: JUnit, shown
    // on CI pages, escapes it as the terminal does.
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["aud"] = json!("https://evil\u{202e}example.com");
    let k = common::main_key();
    let t = mint::sign(&k, &k.v1_header(), &c);
    let out = mdeauth()
        .args(["scan", "--no-verify", "--format", "junit", "--at", AT, "-"])
        .write_stdin(format!("{t}\n"))
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.contains("aud.not_mde"), "{xml}");
    assert!(!xml.contains('\u{202e}'), "{xml}");
}

#[test]
fn a_key_set_file_that_cannot_be_read_is_bad_input_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"keys\":").unwrap();
    let missing = dir.path().join("nope.json");
    for (jwks, says) in [
        (&missing, "cannot read key set file"),
        (&broken, "broken.json"),
    ] {
        mdeauth()
            .args(["scan", "--at", AT, "--jwks", jwks.to_str().unwrap()])
            .arg(path("scan/app.log"))
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(says));
    }
}

#[test]
fn tokens_whose_keys_cannot_be_reached_are_unverified_and_exit_three() {
    // Discovery answers 503: no token can be verified. Nothing fails, so
    // the scan is not a pass: exit 3, and every output says so.
    let server = httpmock::MockServer::start();
    server.mock(|when, then| {
        when.method("GET");
        then.status(503).body("down");
    });
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let app = fixture_text("tokens/app-v1.jwt");
    let keys = [
        "--authority-host",
        &server.base_url(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    let run = |format: &str, input: &str| {
        let out = mdeauth()
            .args(["scan", "--at", AT, "--format", format])
            .args(keys)
            .arg("-")
            .write_stdin(input.to_string())
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
        )
    };
    let (code, human) = run("human", &app);
    assert_eq!(code, 3, "{human}");
    assert!(
        human.contains(
            "Verdict: UNVERIFIED (0 of 1 inspectable token(s) fail; 1 not signature-verified)"
        ),
        "{human}"
    );
    assert!(
        human.contains(&format!(
            "note: 1 token(s) were not signature-verified (the first, {}: the signature was not verified because the signing keys could not be reached (",
            fp_of("app-v1")
        )),
        "{human}"
    );
    let (code, json) = run("json", &app);
    assert_eq!(code, 3);
    let summary: Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert_eq!(summary["unverified"], 1);
    assert_eq!(summary["verdict"], "unverified");
    // The token's own line says so too: a consumer filtering on
    // verdict == "pass" must not count it as checked.
    let line: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(line["verdict"], "unverified", "{line}");
    assert_eq!(line["status"], "pass", "{line}");
    let (code, junit) = run("junit", &app);
    assert_eq!(code, 3);
    assert!(
        junit.contains(r#"<error message="the signature was not verified: the signing keys could not be reached" type="signature.unverified"/>"#),
        "{junit}"
    );
    // A failing token still makes it a failure: exit 1.
    let expired = fixture_text("tokens/expired.jwt");
    let (code, human) = run("human", &format!("{app}\n{expired}\n"));
    assert_eq!(code, 1, "{human}");
    assert!(
        human
            .contains("Verdict: FAIL (1 of 2 inspectable token(s) fail; 2 not signature-verified)"),
        "{human}"
    );
}

#[test]
fn a_plan_s_tenant_and_app_are_checked_as_check_does() {
    // Azure AD signs every tenant's tokens with the same keys: only the
    // tid and appid claims tell a token from another tenant or app.
    let key = common::main_key();
    let mut other_tenant = mint::v1_app_claims(&["Machine.Read.All", "Alert.Read.All"]);
    other_tenant["tid"] = json!(mint::OTHER_TENANT);
    other_tenant["iss"] = json!(format!("https://sts.windows.net/{}/", mint::OTHER_TENANT));
    let mut other_app = mint::v1_app_claims(&["Machine.Read.All", "Alert.Read.All"]);
    other_app["appid"] = json!("11111111-2222-4333-8444-555555555555");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("two.log");
    let tenant_token = mint::sign(&key, &key.v1_header(), &other_tenant);
    let app_token = mint::sign(&key, &key.v1_header(), &other_app);
    std::fs::write(&log, format!("{tenant_token}\n{app_token}\n")).unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "name = \"p\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\ncontext = \"application\"\ncalls = [\"GET /api/machines\"]\n",
            mint::TENANT,
            mint::APP
        ),
    )
    .unwrap();
    let (code, tokens, _) = scan_json_raw(
        &["--no-verify", "--plan", plan.to_str().unwrap()],
        log.to_str().unwrap(),
    );
    assert_eq!(code, 1);
    assert_eq!(
        tokens[0]["errors"],
        json!(["check.tenant_mismatch"]),
        "{:#}",
        tokens[0]
    );
    assert_eq!(
        tokens[1]["errors"],
        json!(["check.client_mismatch"]),
        "{:#}",
        tokens[1]
    );
    // The same verdicts as check.
    for (t, code) in [
        (&tenant_token, "check.tenant_mismatch"),
        (&app_token, "check.client_mismatch"),
    ] {
        let out = mdeauth()
            .args(["check", "--no-verify", "--format", "json", "--at", AT])
            .args(["--plan", plan.to_str().unwrap(), "-"])
            .write_stdin(t.clone())
            .output()
            .unwrap();
        let v = json_out(&out);
        assert!(
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == code),
            "{v:#}"
        );
    }
}

#[test]
fn a_key_set_that_can_be_read_only_once_is_read_once() {
    // --jwks /dev/stdin (or <(...)): a second read would find it empty.
    let out = mdeauth()
        .args([
            "scan",
            "--format",
            "json",
            "--at",
            AT,
            "--jwks",
            "/dev/stdin",
        ])
        .arg(path("scan/app.log"))
        .write_stdin(fixture_text("keys/jwks.json"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let summary: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(summary["unverified"], 0, "{summary}");
    assert_eq!(out.status.code(), Some(1), "{summary}");
    assert_eq!(
        summary["by_error"],
        json!({"token.expired": 1}),
        "{summary}"
    );
}

#[test]
fn key_not_found_age_notes_are_each_tokens_own_though_the_lookup_is_shared() {
    // Two tokens with the same issuer and kid, whose key the served set
    // lacks: one expired years before the set was fetched, one expires
    // long after. The lookup is made once; the "older than the set" note
    // belongs to the old token only, whichever token was looked up first.
    let server = httpmock::MockServer::start();
    let _mocks = v1_discovery(&server, "keys/jwks-rotated.json");
    let key = common::main_key();
    let token = |exp: i64| {
        let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
        c["iat"] = json!(exp - 3600);
        c["nbf"] = json!(exp - 3600);
        c["exp"] = json!(exp);
        mint::sign(&key, &key.v1_header(), &c)
    };
    let (old, new) = (token(1_600_000_000), token(4_000_000_000));
    for order in [[&old, &new], [&new, &old]] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("two.log");
        std::fs::write(&log, format!("a {}\nb {}\n", order[0], order[1])).unwrap();
        let (code, tokens, _) = scan_with_authority(&server.base_url(), dir.path(), &log, &[]);
        assert_eq!(code, 1, "{tokens:?}");
        assert_eq!(tokens.len(), 2);
        for t in &tokens {
            let codes: Vec<&str> = t["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["code"].as_str().unwrap())
                .collect();
            assert!(codes.contains(&"signature.key_not_found"), "{t}");
            let is_old = t["fingerprint"] == mdeauth::token::fingerprint(&old);
            assert_eq!(
                codes.contains(&"keys.token_older_than_set"),
                is_old,
                "old={is_old}: {codes:?}"
            );
        }
    }
    // The human output shows the keys.* notes the fix points to.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("old.log");
    std::fs::write(&log, format!("a {old}\n")).unwrap();
    let out = mdeauth()
        .args([
            "scan",
            "--at",
            AT,
            "--authority-host",
            &server.base_url(),
            "--cache-dir",
        ])
        .arg(dir.path().join("cache"))
        .arg(&log)
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("see the keys.* findings below")
            && human.contains("keys.token_older_than_set"),
        "{human}"
    );
    // JUnit's failure text too.
    let out = mdeauth()
        .args([
            "--format",
            "junit",
            "scan",
            "--at",
            AT,
            "--authority-host",
            &server.base_url(),
            "--cache-dir",
        ])
        .arg(dir.path().join("cache"))
        .arg(&log)
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.contains("keys.token_older_than_set"), "{xml}");
}

#[test]
fn a_host_that_never_answers_is_waited_on_once_not_once_per_tenant() {
    // A sign-in host that accepts connections and says nothing; three
    // tokens from three tenants. The first lookup waits out --timeout; the
    // others are not sent to that host again.
    host_waited_on_once(|s| s);
}

#[test]
fn a_host_whose_answer_trickles_in_is_waited_on_once_too() {
    // Headers at once, then a byte of body now and then: never a complete
    // answer within --timeout.
    host_waited_on_once(|mut s| {
        use std::io::{Read, Write};
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{",
            );
            while s.write_all(b" ").is_ok() {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
    });
}

/// Scan three tokens of three tenants against a sign-in host on loopback
/// whose connections `serve` handles (returning what to hold open): one
/// connection only, the other two tokens not tried.
fn host_waited_on_once<H: Send + 'static>(
    serve: impl Fn(std::net::TcpStream) -> H + Send + 'static,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(serve(s));
        }
    });
    let key = common::main_key();
    let tenants = [
        mint::TENANT,
        mint::OTHER_TENANT,
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    ];
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("tenants.log");
    let text: String = tenants
        .iter()
        .map(|t| {
            let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
            c["tid"] = json!(t);
            c["iss"] = json!(format!("https://sts.windows.net/{t}/"));
            format!("token {}\n", mint::sign(&key, &key.v1_header(), &c))
        })
        .collect();
    std::fs::write(&log, text).unwrap();
    let (code, tokens, summary) = scan_with_authority(
        &format!("http://127.0.0.1:{port}"),
        dir.path(),
        &log,
        &["--timeout", "2"],
    );
    assert_eq!(code, 3, "{summary}");
    assert_eq!(summary["unverified"], 3, "{summary}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "one connection only");
    let not_tried = tokens
        .iter()
        .filter(|t| t.to_string().contains("gave no answer earlier in this run"))
        .count();
    assert_eq!(not_tried, 2, "{tokens:?}");
}

#[test]
fn har_odds_and_ends_unpadded_base64_a_redirect_copy_and_text_named_har() {
    use base64::Engine;
    let t = fixture_text("tokens/app-v1.jwt");
    let t = t.trim();
    let body = base64::engine::general_purpose::STANDARD
        .encode(format!("{{\"access_token\":\"{t}\"}}"))
        .trim_end_matches('=')
        .to_string();
    let har = json!({"log": {"entries": [
        {"request": {"method": "POST", "url": "https://login.example/token"},
         "response": {"content": {"text": body, "encoding": "base64"}}},
        {"request": {"method": "GET", "url": "https://app.example/start"},
         "response": {"headers": [{"name": "location", "value": format!("https://app.example/cb#access_token={t}")}],
                      "redirectURL": format!("https://app.example/cb#access_token={t}")}}
    ]}});
    let (_, tokens, summary) = scan_json(&["-"], Some(har.to_string()));
    assert_eq!(summary["occurrences"], 2, "{summary}");
    let parts = parts_of(&tokens[0]);
    assert_eq!(
        parts,
        ["response body (base64)", "response header location"]
    );
    // A log saved as .har is read as text, with a note.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("copied.har");
    std::fs::write(&f, format!("12:00 Authorization: Bearer {t}\n")).unwrap();
    let (_, tokens, summary) = scan_json(&[f.to_str().unwrap()], None);
    assert_eq!(summary["occurrences"], 1, "{summary}");
    assert_eq!(tokens[0]["locations"][0]["line"], 1);
    assert!(
        summary["notes"][0]
            .as_str()
            .unwrap()
            .ends_with("copied.har: named .har but not a JSON document; read as text"),
        "{summary}"
    );
}
