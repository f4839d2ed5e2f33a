package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.FunctionConfig;
import dev.kiln.model.LambdaError;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayerCatalogTest {

  static FunctionConfig.Layer layer(long unzipped) {
    return new FunctionConfig.Layer(
        "arn:aws:lambda:us-east-1:000000000000:layer:l:1", 10, "00", unzipped);
  }

  @Test
  void codeAndLayersTogether_mustUnpackWithin250Mb() {
    long limit = 262_144_000L;
    assertThatCode(() -> LayerCatalog.checkSize(List.of(layer(limit / 2)), limit / 2))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> LayerCatalog.checkSize(List.of(layer(limit / 2), layer(1)), limit / 2))
        .isInstanceOf(LambdaError.class)
        .hasMessage(
            "Function code combined with layers exceeds the maximum allowed size of 262144000"
                + " bytes. The actual size is 262144001 bytes.");
  }
}
