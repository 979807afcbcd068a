//! The bot's memory as the kernel counts it (`/proc/PID`): its RSS, and
//! what it is made of.

pub(super) fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// RSS, and what it is made of: the bot's own memory (anonymous) and the
/// pages of its binary and libraries mapped from disk (clean, shared).
pub(super) fn rss(pid: u32) -> serde_json::Value {
    serde_json::json!({
        "kib": rss_kib(pid),
        "anon_kib": status_kib(pid, "RssAnon:"),
        "file_kib": status_kib(pid, "RssFile:"),
        "threads": status_kib(pid, "Threads:"),
        "file_kib_by_mapping": file_rss_by_mapping(pid),
    })
}

/// The file-backed RSS of each mapped file (`/proc/PID/smaps`), by file
/// name, largest first: the binary's own pages against the libraries'.
fn file_rss_by_mapping(pid: u32) -> serde_json::Value {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by_file: std::collections::BTreeMap<String, u64> = Default::default();
    let mut file: Option<String> = None;
    for line in smaps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields
            .first()
            .is_some_and(|f| f.contains('-') && !f.ends_with(':'))
        {
            // A mapping's header: range, perms, offset, dev, inode, path.
            file = fields
                .get(5)
                .filter(|p| p.starts_with('/'))
                .map(|p| p.rsplit('/').next().unwrap_or(p).to_owned());
        } else if let (Some(f), Some(&"Rss:"), Some(kib)) = (&file, fields.first(), fields.get(1)) {
            *by_file.entry(f.clone()).or_default() += kib.parse::<u64>().unwrap_or(0);
        }
    }
    let mut sorted: Vec<(String, u64)> = by_file.into_iter().filter(|(_, k)| *k > 0).collect();
    sorted.sort_by_key(|(_, kib)| std::cmp::Reverse(*kib));
    serde_json::Value::Object(sorted.into_iter().map(|(f, k)| (f, k.into())).collect())
}
