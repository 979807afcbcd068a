//! What `aletheia-bot init` tells the operator: a line per finding, plain
//! text for a terminal.

use crate::init::{KINDS, Plan};

/// What `init` tells the operator, a line per finding.
pub fn summary(plan: &Plan, output: &std::path::Path) -> String {
    let mut lines = Vec::new();
    for (kind, found) in KINDS.iter().zip(&plan.workflows) {
        lines.push(match found {
            Some(w) if w.state == "active" => {
                format!("✅ workflow {kind}: {} ({})", w.file, w.name)
            }
            Some(w) => format!(
                "❌ workflow {kind}: {} ({}) is {}: enable it",
                w.file, w.name, w.state
            ),
            None => format!(
                "❌ workflow {kind}: none found; add examples/workflows/{kind}.yml to the repository"
            ),
        });
    }
    for (env, services) in &plan.environments {
        let listed: Vec<String> = services
            .iter()
            .map(|s| format!("{}/{} (container {})", s.cluster, s.service, s.container))
            .collect();
        lines.push(format!("✅ environment {env}: {}", listed.join(", ")));
    }
    if plan.environments.is_empty() {
        lines.push(format!(
            "❌ environments: no ECS service in {} has dev, staging or prod in its name or its cluster's",
            plan.region
        ));
    }
    for l in &plan.left_out {
        lines.push(format!(
            "➖ left out: {}/{}: {}",
            l.cluster, l.service, l.why
        ));
    }
    lines.push(format!(
        "{} written: fill in [[chats]] and [[users]] as it says, then run `aletheia-bot check --online`",
        output.display()
    ));
    lines.join("\n") + "\n"
}
