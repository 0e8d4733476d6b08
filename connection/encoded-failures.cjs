// The failure converter of processes with encryption on (`dataConverter()`'s failureConverterPath):
// an error's message and stack trace go into the failure's encoded attributes, a payload the codecs
// encrypt; Temporal stores "Encoded failure" in their place. Any Temporal client decodes them back.
//
// CommonJS, and plain JavaScript: Temporal loads it with require(), in the worker, in every client
// (whatever loader runs it) and in the workflow bundle a worker builds at start.
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
