//! README's per-family table is rendered from the dialects' own `Capabilities`, so what a user
//! decides from is what the library checks. When a dialect changes a limit, this test fails and
//! prints the table to paste between the markers.

use cellmail::{Capabilities, Charset, Storage, TlsMode, TlsVersion};

const BEGIN: &str = "<!-- family-table:begin (tests/family_table.rs renders it) -->";
const END: &str = "<!-- family-table:end -->";

fn families() -> Vec<(&'static str, Capabilities)> {
    vec![
        ("Quectel GSM", cellmail_quectel::capabilities()),
        (
            "SIMCom SIM7000 / SIM900",
            cellmail_simcom::sim7000::capabilities(),
        ),
        (
            "SIMCom SIM800 / SIM808",
            cellmail_simcom::sim7000::capabilities_of(cellmail_simcom::sim7000::Model::Sim800),
        ),
        (
            "SIMCom SIM7070 / SIM7080 / SIM7090",
            cellmail_simcom::sim7000::capabilities_of(cellmail_simcom::sim7000::Model::Sim7080),
        ),
        ("SIMCom SIM5360", cellmail_simcom::sim5360::capabilities()),
        ("SIMCom A76xx", cellmail_simcom::a76xx::capabilities()),
    ]
}

fn tls(modes: &[TlsMode]) -> String {
    let named: Vec<&str> = modes
        .iter()
        .map(|m| match m {
            TlsMode::None => "plain",
            TlsMode::Implicit => "implicit TLS",
            TlsMode::StartTls => "STARTTLS",
        })
        .collect();
    named.join(", ")
}

fn charset(c: &Charset) -> &'static str {
    c.mime_name()
}

fn storage(s: &Storage) -> String {
    match s {
        Storage::Ram => "RAM:".into(),
        Storage::Ufs => "UFS:".into(),
        Storage::Sd => "SD:".into(),
        Storage::Drive(d) => format!("{d}:/"),
    }
}

fn bytes(n: u64) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

fn forbids(list: &[&str]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    let named: Vec<String> = list
        .iter()
        .map(|s| match *s {
            "\r" => "CR".to_owned(),
            "\n" => "LF".to_owned(),
            "\"" => "`\"`".to_owned(),
            other => format!("`{other}`"),
        })
        .collect();
    named.join(", ")
}

fn render() -> String {
    let fams = families();
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |name: &str, f: &dyn Fn(&Capabilities) -> String| {
        rows.push((name.to_owned(), fams.iter().map(|(_, c)| f(c)).collect()));
    };
    row("family id", &|c| format!("`{}`", c.family));
    row("SMTP", &|c| {
        if c.smtp {
            tls(&c.smtp_tls)
        } else {
            "no".into()
        }
    });
    row("POP3", &|c| {
        if c.pop3 {
            tls(&c.pop3_tls)
        } else {
            "no (not in the module)".into()
        }
    });
    row("TLS versions", &|c| {
        if c.tls_versions.is_empty() {
            return "—".into();
        }
        let v: Vec<&str> = c
            .tls_versions
            .iter()
            .map(|v| match v {
                TlsVersion::Ssl3 => "SSL 3.0",
                TlsVersion::Tls1_0 => "TLS 1.0",
                TlsVersion::Tls1_1 => "TLS 1.1",
                TlsVersion::Tls1_2 => "TLS 1.2",
                TlsVersion::Any => "any",
            })
            .collect();
        let only_old = !c.tls_versions.contains(&TlsVersion::Tls1_2);
        format!(
            "{}{}",
            v.join(", "),
            if only_old {
                " only (most servers refuse it today)"
            } else {
                ""
            }
        )
    });
    row("certificates verified", &|c| {
        if c.tls_verify { "yes" } else { "no" }.into()
    });
    row("charsets", &|c| {
        c.charsets
            .iter()
            .map(charset)
            .collect::<Vec<_>>()
            .join(", ")
    });
    row("recipients", &|c| match c.limits.recipients_per_kind {
        Some(k) => format!("{} in all, {k} per kind", c.limits.recipients),
        None => format!("{} in all", c.limits.recipients),
    });
    row("recipient names", &|c| {
        if c.recipient_names {
            "yes".into()
        } else {
            "refused (the command has no name)".into()
        }
    });
    row("bearer", &|c| {
        if c.bearer_login {
            "APN, user, password".into()
        } else {
            "APN only (a login is refused)".into()
        }
    });
    row("subject (ASCII / encoded)", &|c| {
        format!(
            "{} / {} bytes",
            c.limits.subject_ascii, c.limits.subject_encoded
        )
    });
    row("body", &|c| format!("{} bytes", c.limits.body));
    row("body may not hold", &|c| forbids(&c.body_forbids));
    row("attachment sources", &|c| {
        let s = c.attachment_sources;
        let mut v = Vec::new();
        if s.memory {
            v.push("memory");
        }
        if s.host_file {
            v.push("host file");
        }
        if s.module_file {
            v.push("module file");
        }
        if v.is_empty() {
            "none".into()
        } else {
            v.join(", ")
        }
    });
    row("attachments", &|c| {
        let mut s = format!("{}", c.limits.attachments);
        if c.limits.attachment_bytes_serial == u64::MAX {
            s += ", no size limit in the manual";
        } else if c.limits.attachment_bytes_serial > 0 {
            s += &format!(
                ", {} over the serial line",
                bytes(c.limits.attachment_bytes_serial)
            );
        }
        if let Some(t) = c.limits.attachment_bytes_total {
            s += &format!(", {} in all", bytes(t));
        }
        s
    });
    row("module storages", &|c| {
        if c.storages.is_empty() {
            "none".into()
        } else {
            c.storages
                .iter()
                .map(storage)
                .collect::<Vec<_>>()
                .join(", ")
        }
    });

    let mut out = String::new();
    out += "| | ";
    out += &fams.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" | ");
    out += " |\n|---|";
    out += &"---|".repeat(fams.len());
    out += "\n";
    for (name, cells) in rows {
        out += &format!("| {name} | {} |\n", cells.join(" | "));
    }
    out
}

#[test]
fn readme_family_table_is_the_dialects_capabilities() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find(BEGIN)
        .expect("README has the family-table markers")
        + BEGIN.len();
    let end = readme[start..]
        .find(END)
        .expect("README has the end marker")
        + start;
    let table = readme[start..end].trim();
    let expected = render();
    assert_eq!(
        table,
        expected.trim(),
        "README's family table is stale; put this between the markers:\n{expected}"
    );
}
