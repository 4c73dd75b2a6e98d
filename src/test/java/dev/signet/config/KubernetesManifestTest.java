package dev.signet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** conf/k8s/signet.yaml: the environment a pod of the StatefulSet gets makes a valid relay config. */
class KubernetesManifestTest {

  /** The container's env as Kubernetes builds it for pod {@code podName}: fieldRefs and $(VAR) expanded. */
  @SuppressWarnings("unchecked")
  private static Map<String, String> podEnvironment(String podName) throws Exception {
    Map<String, Object> statefulSet = null;
    try (InputStream in = Files.newInputStream(Path.of("conf/k8s/signet.yaml"))) {
      for (Object doc : new Load(LoadSettings.builder().build()).loadAllFromInputStream(in)) {
        Map<String, Object> d = (Map<String, Object>) doc;
        if ("StatefulSet".equals(d.get("kind"))) {
          statefulSet = d;
        }
      }
    }
    assertNotNull(statefulSet, "no StatefulSet in the manifest");
    Map<String, Object> pod = (Map<String, Object>) ((Map<String, Object>) statefulSet.get("spec")).get("template");
    List<Map<String, Object>> containers =
        (List<Map<String, Object>>) ((Map<String, Object>) pod.get("spec")).get("containers");
    Map<String, String> env = new LinkedHashMap<>();
    Pattern reference = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
    for (Map<String, Object> var : (List<Map<String, Object>>) containers.get(0).get("env")) {
      String name = (String) var.get("name");
      String value;
      if (var.containsKey("valueFrom")) {
        Map<String, Object> field = (Map<String, Object>) ((Map<String, Object>) var.get("valueFrom")).get("fieldRef");
        assertEquals("metadata.name", field.get("fieldPath"), "only the pod name is modelled here");
        value = podName;
      } else {
        // Kubernetes expands $(VAR) from variables defined earlier in the list.
        Matcher m = reference.matcher((String) var.get("value"));
        value = m.replaceAll(r -> Matcher.quoteReplacement(env.getOrDefault(r.group(1), r.group())));
      }
      env.put(name, value);
    }
    return env;
  }

  @Test
  void eachPodSendsUnderItsOwnFullyQualifiedName() throws Exception {
    Map<String, String> env = podEnvironment("signet-0");
    Map<String, String> signet = new LinkedHashMap<>(env);
    signet.keySet().removeIf(k -> !k.startsWith("SIGNET_"));
    SignetConfig config = SignetConfig.load(Optional.empty(), signet);
    assertEquals("signet-0.mail.example.com", config.hostname());
    assertEquals("signet-1.mail.example.com",
        SignetConfig.load(Optional.empty(), Map.of("SIGNET_HOSTNAME", podEnvironment("signet-1").get("SIGNET_HOSTNAME")))
            .hostname());
  }
}
