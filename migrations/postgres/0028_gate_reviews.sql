-- Reviews of runs held by a GitHub environment's required reviewers,
-- given from Telegram: one per run's operation and environment. The
-- first tap claims the row (done = 0) before the bot calls GitHub; the
-- claim is let go if GitHub refuses, and marked done with the review.
CREATE TABLE gate_reviews (
    operation_id   BIGINT NOT NULL,
    environment_id BIGINT NOT NULL,
    reviewed_by    BIGINT NOT NULL,
    approved       BIGINT NOT NULL,
    reviewed_at    BIGINT NOT NULL,
    done           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (operation_id, environment_id)
);
