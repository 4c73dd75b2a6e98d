# Signet: build with Maven, run on a JRE 25 as a non-root user (the jar is Java 21 bytecode; Java 25 gives the
# start-up cache its JIT profiles).
# The build stage runs the same command as .ci/run's packaging (mvn -B -DskipTests package -> target/signet.jar).
FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src src
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:25-jre
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/signet --shell /usr/sbin/nologin signet \
 && mkdir -p /var/lib/signet/spool /etc/signet/keys \
 && chown -R signet:signet /var/lib/signet \
 && chmod 0700 /var/lib/signet/spool
COPY --from=build /src/target/signet.jar /opt/signet/signet.jar
COPY signet /opt/signet/signet
COPY src/main/sh/train-startup-cache.sh /opt/signet/train-startup-cache.sh
COPY conf/signet.yaml conf/logback.xml conf/logback-json.xml /etc/signet/
# Configure with SIGNET_* variables (see conf/signet.yaml); these make the defaults container-friendly.
ENV SIGNET_LISTEN_SUBMISSION=0.0.0.0:2525 \
    SIGNET_METRICS_LISTEN=0.0.0.0:9465 \
    SIGNET_DKIM_KEYS=/etc/signet/keys \
    SIGNET_SPOOL_DIR=/var/lib/signet/spool \
    SIGNET_JAR=/opt/signet/signet.jar \
    SIGNET_STARTUP_CACHE_DIR=/opt/signet \
    SIGNET_JAVA_OPTS="-XX:MaxRAMPercentage=75 -Dlogback.configurationFile=/etc/signet/logback.xml"
# The launcher's start-up cache (classes and JIT profiles, so a new container is at full speed sooner), trained
# here on 1000 messages to loopback: a container rarely stops slowly enough to save one itself. Made with the ENV
# above; a container run with other SIGNET_JAVA_OPTS goes without it (/opt/signet is not the relay user's).
RUN /opt/signet/train-startup-cache.sh 1000 && chmod 0644 /opt/signet/signet-*.aot
USER signet
WORKDIR /var/lib/signet
VOLUME ["/etc/signet/keys", "/var/lib/signet/spool"]
EXPOSE 2525 465 9465
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD curl -fsS http://127.0.0.1:9465/healthz || exit 1
# The repo's launcher, as `./signet` runs it: SIGNET_JAVA_OPTS for every command (not JAVA_TOOL_OPTIONS, which makes
# the JVM print "Picked up ..." on stderr, where scripts read `sign`'s errors), and for serve the start-up cache
# and the JVM options it explains.
ENTRYPOINT ["/opt/signet/signet"]
CMD ["serve"]
