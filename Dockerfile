# Build: the whole toolchain, thrown away after.
FROM rust:1.95-bookworm AS build
WORKDIR /src
# Every file the manifest names: cargo refuses a Cargo.toml whose
# [[bench]] or [[test]] files are missing, even to build the binary alone.
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY benches benches
COPY tests tests
RUN cargo build --release --locked --bin aletheia-bot \
 && strip target/release/aletheia-bot

# Run: a slim base with CA certificates, a non-root user, state on a volume.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/aletheia --shell /usr/sbin/nologin aletheia \
 && mkdir -p /var/lib/aletheia /etc/aletheia \
 && chown aletheia:aletheia /var/lib/aletheia
COPY --from=build /src/target/release/aletheia-bot /usr/local/bin/aletheia-bot
COPY bot.toml /etc/aletheia/bot.toml
USER aletheia
WORKDIR /var/lib/aletheia
VOLUME ["/var/lib/aletheia"]
# The pidfile lets `docker exec <container> aletheia-bot reload` find the
# bot (PID 1 here) to make it read bot.toml again.
ENV ALETHEIA_CONFIG=/etc/aletheia/bot.toml \
    ALETHEIA_PIDFILE=/tmp/aletheia-bot.pid \
    DATABASE_URL=sqlite:///var/lib/aletheia/aletheia.db
EXPOSE 8080
# The bot asks its own /livez on server.listen (no curl in the image): the
# process answers, whatever the database does.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["aletheia-bot", "healthcheck"]
ENTRYPOINT ["aletheia-bot"]
CMD ["run"]
