-- When the bot last answered a stranger (a chat nobody configured, or a
-- sender not in [[users]]), so it answers each at most once a window,
-- across restarts and instances. `user_id` is 0 where the whole chat
-- shares one answer (a group nobody configured). `quiet` counts the
-- commands left unanswered since.
CREATE TABLE stranger_answers (
    chat_id     BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    answered_at BIGINT NOT NULL,
    quiet       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, user_id)
);
