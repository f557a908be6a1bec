# Shared by jaxws_opi.sh and jaxws_ref.sh (sourced first, with the caller's arguments BASE USER
# SECRET [CODETU INE CODOPI]): the arguments (BASE, USER_NAME, SECRET, and STUDENT: the lifecycle
# student's three identifiers, or empty), setup_error, the tools checked, a temporary
# directory TMP removed at exit, the JAX-WS RI runtime classpath (CP) and the JVM options
# (JAVA_OPTS).

# ------------------------------------------------------------------------------ arguments, tools, TMP
if [ $# -ne 3 ] && [ $# -ne 6 ]; then
    echo "usage: $0 BASE USER SECRET [CODETU INE CODOPI]" >&2
    exit 2
fi
BASE=${1%/}
USER_NAME=$2
SECRET=$3
STUDENT=
[ $# -eq 6 ] && STUDENT="$4 $5 $6"
JAVA_SHARE=${JAVA_SHARE:-/usr/share/java}

setup_error() {
    echo "error: $*" >&2
    exit 2
}

for tool in wsimport javac java; do
    command -v "$tool" >/dev/null 2>&1 || setup_error "$tool not found (install the Debian packages jaxws, libjaxws-java and a JDK)"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/$(basename "$0" .sh).XXXXXX") || setup_error "mktemp failed"
trap 'rm -rf "$TMP"' EXIT HUP INT TERM

# ------------------------------------------------------------------------------ classpath
# Runtime jars of JAX-WS RI 2.3 and its dependencies, by Debian package. Tool, build, test and
# servlet jars are left out, and so are the split jaxws-ri-* jars, whose classes jaxws-rt.jar (the
# bundle) already holds.
PKGS="libjaxws-java libjaxws-api-java libjws-api-java libjaxb-api-java libjaxb-java libactivation-java
      libsaaj-java libsaaj-ri-java libstax-ex-java libstreambuffer-java libmimepull-java
      libistack-commons-java libtxw2-java libgmbal-java libgmbal-commons-java libgmbal-pfl-java
      libmetro-policy-java libfastinfoset-java libstax2-api-java libwoodstox-java
      libxml-commons-resolver1.1-java libgeronimo-annotation-1.3-spec-java"
EXCLUDE='^(jaxws-tools|wscompile.*|jaxws-ri-.*|.*servlet.*|jaxb-xjc.*|jaxb-jxc.*|txwc2|istack-commons-(buildtools|maven-plugin|soimp|test|tools)|import-properties-plugin|glassfish-pfl-(test|tf-tools|basic-tools)|FastInfosetUtilities)\.jar$'
REQUIRED="jaxws-rt.jar jaxws-api.jar jws-api.jar jaxb-api.jar jaxb-runtime.jar jaxb-core.jar javax.activation.jar
          javax.xml.soap-api.jar saaj-impl.jar stax-ex.jar streambuffer.jar mimepull.jar istack-commons-runtime.jar"

if [ -n "${JAXWS_CLASSPATH:-}" ]; then
    CP=$JAXWS_CLASSPATH
else
    if command -v dpkg >/dev/null 2>&1; then
        # shellcheck disable=SC2086 # word splitting of the package list is intended
        dpkg -L $PKGS 2>/dev/null | grep -E "^$JAVA_SHARE/[^/]+\.jar\$" >"$TMP/jars.all"
    else
        : >"$TMP/jars.all"
    fi
    if [ ! -s "$TMP/jars.all" ]; then
        for f in $REQUIRED; do echo "$JAVA_SHARE/$f"; done >"$TMP/jars.all"
        for f in gmbal glassfish-management-api metro-policy FastInfoset stax2-api woodstox-core txw2; do
            [ -e "$JAVA_SHARE/$f.jar" ] && echo "$JAVA_SHARE/$f.jar"
        done >>"$TMP/jars.all"
    fi
    # Resolve the version symlinks (foo-1.2.jar -> foo.jar) so that every jar appears once.
    CP=
    for jar in $(while read -r j; do readlink -f "$j"; done <"$TMP/jars.all" | sort -u); do
        [ -f "$jar" ] || continue
        basename "$jar" | grep -Eq "$EXCLUDE" && continue
        CP="${CP:+$CP:}$jar"
    done
    missing=
    for f in $REQUIRED; do
        real=$(readlink -f "$JAVA_SHARE/$f" 2>/dev/null) || real=
        case ":$CP:" in
            *":$real:"*) ;;
            *) missing="$missing $f" ;;
        esac
    done
    [ -z "$missing" ] || setup_error "JAX-WS runtime jars missing from the classpath:$missing (install libjaxws-java)"
fi


# JAXB 2.3 injects its optimized accessors through reflection on java.lang.ClassLoader: open
# java.lang (without it JAXB falls back to plain reflection; the run passes either way). Name the SAAJ
# meta factory so that javax.xml.soap does not warn about its deprecated lookup on every call.
JAVA_OPTS="--add-opens java.base/java.lang=ALL-UNNAMED -Dfile.encoding=UTF-8
           -Djavax.xml.soap.SAAJMetaFactory=com.sun.xml.messaging.saaj.soap.SAAJMetaFactoryImpl"
# JAXWS_DUMP=1: print every SOAP request and response in full (JAX-WS RI transport dump) on stdout.
# The dump shows the Authorization header, i.e. the credentials in base64: do not keep it in CI logs.
if [ "${JAXWS_DUMP:-0}" = 1 ]; then
    JAVA_OPTS="$JAVA_OPTS -Dcom.sun.xml.ws.transport.http.client.HttpTransportPipe.dump=true
               -Dcom.sun.xml.ws.transport.http.HttpAdapter.dumpTreshold=1000000"
fi
