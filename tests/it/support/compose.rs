//! `examples/compose.yaml` read as Docker Compose reads it: merge keys
//! (`<<: *bot`) applied, `${VAR:?…}` interpolated from a set of
//! variables (as from `examples/.env`), and the mounted files found.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// The repository's `examples/`.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// A compose file, its merge keys applied.
pub struct Compose {
    root: Yaml,
    /// The directory relative paths in it start from.
    dir: PathBuf,
}

impl Compose {
    pub fn load(path: &Path) -> Self {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut docs =
            YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(docs.len(), 1, "{}: one document", path.display());
        Self {
            root: merged(docs.remove(0)),
            dir: path.parent().unwrap().to_owned(),
        }
    }

    /// `examples/compose.yaml`.
    pub fn example() -> Self {
        Self::load(&examples_dir().join("compose.yaml"))
    }

    /// The names of `services`, in the file's order.
    pub fn services(&self) -> Vec<String> {
        self.root["services"]
            .as_hash()
            .expect("a `services` mapping")
            .keys()
            .map(|k| k.as_str().expect("service names are strings").to_owned())
            .collect()
    }

    /// One service (panics naming it when it is absent).
    pub fn service(&self, name: &str) -> &Yaml {
        let service = &self.root["services"][name];
        assert!(
            !service.is_badvalue(),
            "no service {name:?} in compose.yaml"
        );
        service
    }

    /// A service's `environment`, as written (before interpolation), in
    /// either of Compose's forms (a mapping, or a list of `KEY=VALUE`).
    pub fn raw_environment(&self, name: &str) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        match &self.service(name)["environment"] {
            Yaml::Hash(map) => {
                for (k, v) in map {
                    let value = match v {
                        Yaml::String(s) | Yaml::Real(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        Yaml::Null => String::new(),
                        other => panic!("{name}: environment value {other:?}"),
                    };
                    env.insert(k.as_str().unwrap().to_owned(), value);
                }
            }
            Yaml::Array(items) => {
                for item in items {
                    let item = item.as_str().expect("KEY=VALUE");
                    let (k, v) = item.split_once('=').unwrap_or((item, ""));
                    env.insert(k.to_owned(), v.to_owned());
                }
            }
            Yaml::BadValue => {}
            other => panic!("{name}: environment {other:?}"),
        }
        assert!(
            self.service(name)["env_file"].is_badvalue(),
            "{name}: env_file would set variables this reading does not see"
        );
        env
    }

    /// A service's environment, interpolated from `vars` as Compose does
    /// (panics with Compose's refusal when a required one is missing).
    pub fn environment(&self, name: &str, vars: &BTreeMap<&str, &str>) -> BTreeMap<String, String> {
        self.raw_environment(name)
            .into_iter()
            .map(|(k, v)| {
                let value = interpolate(&v, vars)
                    .unwrap_or_else(|e| panic!("{name}: {k}: compose would refuse: {e}"));
                (k, value)
            })
            .collect()
    }

    /// A service's `volumes` of the form `./SOURCE:TARGET[:ro]`: the file
    /// on this machine, by its target in the container.
    pub fn mounts(&self, name: &str) -> BTreeMap<String, PathBuf> {
        let mut mounts = BTreeMap::new();
        for volume in self.service(name)["volumes"].as_vec().into_iter().flatten() {
            let volume = volume.as_str().expect("short volume syntax");
            let mut parts = volume.split(':');
            let (source, target) = (parts.next().unwrap(), parts.next().unwrap_or(""));
            if source.starts_with("./") || source.starts_with("../") {
                mounts.insert(target.to_owned(), self.dir.join(source));
            }
        }
        mounts
    }

    /// The host ports a service publishes (`ports`).
    pub fn published_ports(&self, name: &str) -> Vec<String> {
        let service = self.service(name);
        assert!(
            service["network_mode"].as_str() != Some("host"),
            "{name}: host networking publishes every port"
        );
        service["ports"]
            .as_vec()
            .into_iter()
            .flatten()
            .map(|p| match p {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(i) => i.to_string(),
                other => panic!("{name}: ports entry {other:?}"),
            })
            .collect()
    }
}

/// `<<` merge keys applied, recursively: the merged mapping's keys fill
/// in those the mapping does not set itself.
fn merged(node: Yaml) -> Yaml {
    match node {
        Yaml::Hash(map) => {
            let mut out = yaml_rust2::yaml::Hash::new();
            let mut inherited = Vec::new();
            for (k, v) in map {
                if k.as_str() == Some("<<") {
                    match merged(v) {
                        Yaml::Hash(m) => inherited.push(m),
                        Yaml::Array(ms) => {
                            inherited.extend(ms.into_iter().filter_map(|m| match m {
                                Yaml::Hash(m) => Some(m),
                                _ => None,
                            }))
                        }
                        other => panic!("<< merges a mapping, not {other:?}"),
                    }
                } else {
                    out.insert(k, merged(v));
                }
            }
            for m in inherited {
                for (k, v) in m {
                    if !out.contains_key(&k) {
                        out.insert(k, v);
                    }
                }
            }
            Yaml::Hash(out)
        }
        Yaml::Array(items) => Yaml::Array(items.into_iter().map(merged).collect()),
        other => other,
    }
}

/// Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
/// `${VAR-default}`, `${VAR:?error}` and `${VAR?error}`.
pub fn interpolate(text: &str, vars: &BTreeMap<&str, &str>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(braced) = rest.strip_prefix('{') {
            let end = braced
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {text:?}"))?;
            out.push_str(&expand(&braced[..end], vars)?);
            rest = &braced[end + 1..];
        } else {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push_str(vars.get(&rest[..len]).copied().unwrap_or_default());
            rest = &rest[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// One `${…}` expression.
fn expand(expr: &str, vars: &BTreeMap<&str, &str>) -> Result<String, String> {
    let name_len = expr
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(expr.len());
    let (name, op) = expr.split_at(name_len);
    let value = vars.get(name).copied();
    let set_nonempty = value.filter(|v| !v.is_empty());
    Ok(match op {
        "" => value.unwrap_or_default().to_owned(),
        _ if op.starts_with(":-") => set_nonempty.unwrap_or(&op[2..]).to_owned(),
        _ if op.starts_with('-') => value.unwrap_or(&op[1..]).to_owned(),
        _ if op.starts_with(":?") => set_nonempty.ok_or_else(|| op[2..].to_owned())?.to_owned(),
        _ if op.starts_with('?') => value.ok_or_else(|| op[1..].to_owned())?.to_owned(),
        _ => return Err(format!("unsupported expression ${{{expr}}}")),
    })
}

/// The variables `${…}` names in `text`.
pub fn variables_in(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        rest = &rest[at + 2..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        names.push(rest[..len].to_owned());
    }
    names
}
