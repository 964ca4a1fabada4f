#!/usr/bin/env bash
# Java for `vipwh build --engine spark` (a local Spark needs Java 17 or later). Does nothing when `java` runs.
set -euo pipefail
if command -v java >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "ensure_java.sh: java is missing and we are not root; run as root:" >&2
    echo "  apt-get update && apt-get install -y openjdk-17-jre-headless" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null \
    || apt-get install -y -qq --no-install-recommends default-jre-headless >/dev/null
java -version
