// whoami: the JS SDK v3 asks STS who it is and prints the answer as one JSON line.
// `default`: the default credential chain; `container`: fromContainerMetadata alone.
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromContainerMetadata } from "@aws-sdk/credential-providers";

const options = { region: process.env.AWS_REGION || "us-east-1" };
if (process.argv[2] === "container") {
  options.credentials = fromContainerMetadata({ timeout: 5000, maxRetries: 2 });
}
const client = new STSClient(options);
try {
  const identity = await client.send(new GetCallerIdentityCommand({}));
  const credentials = await client.config.credentials();
  console.log(JSON.stringify({ Arn: identity.Arn, key: credentials.accessKeyId }));
} catch (error) {
  console.error(`whoami: ${error.name}: ${error.message}`);
  process.exit(1);
}
