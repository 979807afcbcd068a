-- /mute: a chat stops receiving one alert kind, or one environment's
-- alerts, until a time. Failures of `spare_env` (prod) still come through.
CREATE TABLE mutes (
    chat_id   BIGINT NOT NULL,
    target    TEXT   NOT NULL,
    until     BIGINT NOT NULL,
    muted_by  BIGINT NOT NULL,
    spare_env TEXT,
    PRIMARY KEY (chat_id, target)
);
