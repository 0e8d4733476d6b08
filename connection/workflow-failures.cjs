// The failure converter of prebuilt workflow bundles (`npm run build:bundle`, the Docker image, the
// tests). A bundle is built once for every setting, and the workflow sandbox cannot read the
// environment, so the worker tells it: with encryption on, createAgentWorker() prepends
// `globalThis.__agentRunnerEncodeFailures = true;` to the bundle, and then failures from workflow
// code are encoded as in encoded-failures.cjs. Without it they stay in clear, as Temporal's default.
//
// CommonJS for require(), like encoded-failures.cjs; it only loads what the sandbox allows.
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

const plain = new DefaultFailureConverter();
const encoded = new DefaultFailureConverter({ encodeCommonAttributes: true });

exports.failureConverter = {
  errorToFailure(err, payloadConverter, context) {
    const converter = globalThis.__agentRunnerEncodeFailures === true ? encoded : plain;
    return converter.errorToFailure(err, payloadConverter, context);
  },
  failureToError(failure, payloadConverter, context) {
    // Decoding is the same either way: encoded attributes, when present, are read back.
    return plain.failureToError(failure, payloadConverter, context);
  },
};
