//! `mdeauth completions`: scripts that complete every command and its
//! options, deferred subcommands included.
mod common;

use common::mdeauth;

fn script(shell: &str) -> String {
    let out = mdeauth().args(["completions", shell]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{shell}");
    assert!(out.stderr.is_empty(), "{shell}");
    String::from_utf8(out.stdout).unwrap()
}

/// What bash offers for `words`, the last one being completed.
fn bash_complete(script: &str, words: &[&str]) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mdeauth.bash");
    std::fs::write(&path, script).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let n = words.len();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _mdeauth mdeauth '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display(),
        quoted.join(" "),
        n - 1,
        words[n - 1],
        words[n - 2],
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn bash_completes_commands_options_and_values() {
    let s = script("bash");
    assert!(s.starts_with("_mdeauth() {"), "{}", &s[..80]);
    // Without bash on the machine, the script's content is all that can be checked.
    let Some(cmds) = bash_complete(&s, &["mdeauth", "sc"]) else {
        assert!(s.contains("mdeauth,scan)"));
        return;
    };
    assert_eq!(cmds, ["scan"]);
    assert_eq!(
        bash_complete(&s, &["mdeauth", "doctor", "--fl"]).unwrap(),
        ["--flow"]
    );
    assert_eq!(
        bash_complete(&s, &["mdeauth", "doctor", "--flow", ""]).unwrap(),
        [
            "client-credentials",
            "password",
            "device-code",
            "managed-identity"
        ]
    );
    assert_eq!(
        bash_complete(&s, &["mdeauth", "check", "--context", ""]).unwrap(),
        ["application", "delegated"]
    );
}

#[test]
fn other_shells_and_a_bad_shell() {
    assert!(script("zsh").starts_with("#compdef mdeauth"));
    assert!(
        script("fish").contains("complete -c mdeauth -n \"__fish_mdeauth_using_subcommand scan\"")
    );
    assert!(
        script("powershell").contains("Register-ArgumentCompleter -Native -CommandName 'mdeauth'")
    );
    let out = mdeauth().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("invalid value 'tcsh' for '<SHELL>'"), "{err}");
    assert!(out.stdout.is_empty());
}
