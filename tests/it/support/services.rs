//! Environments of several ECS services: `aletheia-api` and the
//! `extra_services` beside it, each of its own task definition family.

use super::{World, moto};

impl World {
    /// The keys of `[environments.<env>]` that name its services.
    pub(super) fn services_toml(&self, env: &str) -> String {
        let cluster = self.cluster(env);
        let extra: Vec<&str> = self
            .extra_services
            .iter()
            .filter(|(e, _)| *e == env)
            .map(|(_, s)| *s)
            .collect();
        if extra.is_empty() {
            return format!(
                "cluster = \"{cluster}\"\nservice = \"aletheia-api\"\ncontainer = \"api\"\n"
            );
        }
        let mut toml = "services = [\n".to_owned();
        for service in std::iter::once("aletheia-api").chain(extra) {
            toml.push_str(&format!(
                "  {{ cluster = \"{cluster}\", service = \"{service}\", container = \"api\" }},\n"
            ));
        }
        toml.push_str("]\n");
        toml
    }

    /// The task definition family of a service of `env`.
    pub fn family(&self, env: &str, service: &str) -> String {
        match service {
            "aletheia-api" => format!("{}-{env}-api", self.prefix),
            other => format!("{}-{env}-{other}", self.prefix),
        }
    }

    /// `service` runs `image` in `env`'s cluster (seeded), all its tasks.
    pub async fn seed_extra_service(&self, env: &str, service: &str, image: &str) {
        let arn = moto::register(&self.ecs, &self.family(env, service), image).await;
        moto::create_service(&self.ecs, &self.cluster(env), service, &arn, moto::RUNNING).await;
    }

    /// What the Deploy workflow does to one service of `env`:
    /// `repo/aletheia:{version}` rolled out there, completed.
    pub async fn roll_out_service(&self, env: &str, service: &str, version: &str) {
        let image = format!("repo/aletheia:{version}");
        let arn = moto::register(&self.ecs, &self.family(env, service), &image).await;
        moto::roll_out(&self.ecs, &self.cluster(env), service, &arn).await;
    }
}
