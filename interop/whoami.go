// whoami: the Go SDK v2's default credential chain asks STS who it is, and prints the
// answer as one JSON line. Built offline against Debian's golang-github-aws-aws-sdk-go-v2-dev.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "whoami: config:", err)
		os.Exit(1)
	}
	client := sts.NewFromConfig(cfg, func(options *sts.Options) {
		// This SDK release predates AWS_ENDPOINT_URL: honour it here, for moto on loopback.
		if url := os.Getenv("AWS_ENDPOINT_URL"); url != "" {
			options.EndpointResolver = sts.EndpointResolverFromURL(url)
		}
	})
	identity, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "whoami: sts:", err)
		os.Exit(1)
	}
	credentials, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "whoami: credentials:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]string{
		"Arn": *identity.Arn, "key": credentials.AccessKeyID, "provider": credentials.Source,
	})
}
