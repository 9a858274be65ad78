#!/usr/bin/env bash
# Spark for the tests: Java 17 from Debian's packages if java is missing, and the variables
# pyspark reads. Source it (`source .ci/spark.sh`) so the exports reach the test run.
if ! command -v java >/dev/null 2>&1; then
    echo "== installing openjdk-17-jre-headless (Debian) for the Spark tests"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
        openjdk-17-jre-headless
fi
JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
export JAVA_HOME
# workers must run the same Python (and packages) as the driver
PYSPARK_PYTHON="$(command -v python)"
export PYSPARK_PYTHON
export PYSPARK_DRIVER_PYTHON="$PYSPARK_PYTHON"
# a loopback-only hostname makes Spark warn and sometimes pick an unreachable address
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
echo "Spark: JAVA_HOME=$JAVA_HOME PYSPARK_PYTHON=$PYSPARK_PYTHON"
