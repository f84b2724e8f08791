// Compiled and run by generate_stubs_test.py against the Java stubs of
// scripts/generate_stubs.sh, with Debian's protobuf-java, grpc-java and
// proto-google-common-protos (where com.google.rpc comes from) jars.
import com.google.rpc.Status;
import io.grpc.ServiceDescriptor;
import io.llmgateway.v1.BatchGenerateResponse;
import io.llmgateway.v1.GenerationGrpc;

public class CheckStubs {
  public static void main(String[] args) throws Exception {
    BatchGenerateResponse result = BatchGenerateResponse.newBuilder()
        .setIndex(1)
        .setError(Status.newBuilder().setCode(5).setMessage("no such model"))
        .build();
    BatchGenerateResponse back = BatchGenerateResponse.parseFrom(result.toByteArray());
    ServiceDescriptor generation = GenerationGrpc.getServiceDescriptor();
    System.out.println(generation.getName() + " " + generation.getMethods().size() + " "
        + back.getError().getMessage());
  }
}
