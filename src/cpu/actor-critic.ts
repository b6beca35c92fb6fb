/**
 * CPU reference of the whole actor-critic network of one agent, for any depth, composed from the per-op
 * references:
 *   actor:  x [B×O] → Linear → act → … → Linear → act → hidden_L [B×H_L] → Linear → logits or means [B×A]
 *   critic: x [B×O] → Linear → act → … → hidden'_L' → Linear → values [B×V]
 * (the layers and their slots: src/model/layout.ts; with a shared trunk the critic's hidden layers are
 * the actor's, so the trunk's gradient is the sum of both paths). Parameters and gradients live in one
 * flat buffer; the backward overwrites every gradient element of the networks (a Gaussian policy's
 * log_std, which no layer uses, is left at 0 here: the loss adds its gradient).
 * The cache keeps only the post-activation hidden layers: the backward of both activations can be
 * taken from the output (src/cpu/activation.ts), which saves the GPU a buffer per layer.
 */
import { paramLayout, tensorView, type FloatArray, type LayerSlots, type NetShape } from '../model/layout.ts';
import { activationBackward, activationForward } from './activation.ts';
import { linearBackward, linearForward } from './linear.ts';

export interface ActorCriticCache {
  /** Post-activation outputs of the actor's hidden layers, input to output: [B×H_ℓ] each. */
  actorHiddens: Float64Array[];
  criticHiddens: Float64Array[];
  /** The last hidden layer of each network (what the one-layer code and tests call the hidden layer). */
  actorHidden: Float64Array;
  criticHidden: Float64Array;
  logits: Float64Array; // [B×A]: logits, or a Gaussian policy's means
  values: Float64Array; // [B×V]
}

function forwardNetwork(params: FloatArray, layers: LayerSlots[], activation: NetShape['activation'], x: ArrayLike<number>, B: number, shared?: Float64Array[]) {
  const hiddens: Float64Array[] = [];
  let input: ArrayLike<number> = x;
  let out = new Float64Array(0);
  layers.forEach((layer, l) => {
    if (layer.activated && shared) {
      input = shared[l];
      hiddens.push(shared[l]);
      return;
    }
    out = new Float64Array(B * layer.outputs);
    linearForward(out, input, tensorView(params, layer.weight), tensorView(params, layer.bias), B, layer.inputs, layer.outputs);
    if (layer.activated) {
      activationForward(activation, out, out, B * layer.outputs);
      hiddens.push(out);
    }
    input = out;
  });
  return { hiddens, output: out };
}

export function actorCriticForward(params: FloatArray, shape: NetShape, obs: ArrayLike<number>, B: number): ActorCriticCache {
  const L = paramLayout(shape);
  if (params.length !== L.total) throw new Error(`actorCriticForward: params has ${params.length} elements, layout needs ${L.total}`);
  const actor = forwardNetwork(params, L.actor, shape.activation, obs, B);
  const critic = forwardNetwork(params, L.critic, shape.activation, obs, B, shape.sharedTrunk ? actor.hiddens : undefined);
  return {
    actorHiddens: actor.hiddens,
    criticHiddens: critic.hiddens,
    actorHidden: actor.hiddens[actor.hiddens.length - 1],
    criticHidden: critic.hiddens[critic.hiddens.length - 1],
    logits: actor.output,
    values: critic.output,
  };
}

/**
 * Backpropagates dOut through `layers` (head first), writing each layer's gradients with `write`
 * (overwrite or add); returns nothing: the observations need no gradient.
 */
function backwardNetwork(
  params: FloatArray,
  layers: LayerSlots[],
  activation: NetShape['activation'],
  x: ArrayLike<number>,
  hiddens: Float64Array[],
  dOut: ArrayLike<number>,
  B: number,
  write: (layer: LayerSlots, dW: Float64Array, db: Float64Array) => void,
): void {
  let d: ArrayLike<number> = dOut;
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l];
    const input = l === 0 ? x : hiddens[l - 1];
    const dW = new Float64Array(layer.inputs * layer.outputs);
    const db = new Float64Array(layer.outputs);
    const dIn = l === 0 ? null : new Float64Array(B * layer.inputs);
    linearBackward(dIn, dW, db, d, input, tensorView(params, layer.weight), B, layer.inputs, layer.outputs);
    write(layer, dW, db);
    if (dIn) {
      // Through the activation that produced this layer's input (from its output, see activation.ts).
      activationBackward(activation, dIn, dIn, hiddens[l - 1], B * layer.inputs);
      d = dIn;
    }
  }
}

/**
 * Gradients of a loss w.r.t. all network parameters, given its gradients w.r.t. the actor's outputs
 * [B×A] and the values [B×V], written over `grads` (flat, same layout as params; a fresh f64 buffer by
 * default) and returned.
 */
export function actorCriticBackward(
  params: FloatArray,
  shape: NetShape,
  obs: ArrayLike<number>,
  cache: ActorCriticCache,
  dLogits: ArrayLike<number>,
  dValues: ArrayLike<number>,
  B: number,
  grads: FloatArray = new Float64Array(paramLayout(shape).total),
): FloatArray {
  const L = paramLayout(shape);
  if (grads.length !== L.total) throw new Error(`actorCriticBackward: grads has ${grads.length} elements, layout needs ${L.total}`);
  grads.fill(0);
  const overwrite = (layer: LayerSlots, dW: Float64Array, db: Float64Array) => {
    tensorView(grads, layer.weight).set(dW);
    tensorView(grads, layer.bias).set(db);
  };
  // The trunk serves both heads: its gradient is the sum of the two paths.
  const add = (layer: LayerSlots, dW: Float64Array, db: Float64Array) => {
    tensorView(grads, layer.weight).forEach((v, i, a) => (a[i] = v + dW[i]));
    tensorView(grads, layer.bias).forEach((v, i, a) => (a[i] = v + db[i]));
  };
  backwardNetwork(params, L.actor, shape.activation, obs, cache.actorHiddens, dLogits, B, overwrite);
  if (shape.sharedTrunk) {
    const head = L.critic.length - 1;
    backwardNetwork(params, L.critic, shape.activation, obs, cache.criticHiddens, dValues, B, (layer, dW, db) => (layer === L.critic[head] ? overwrite : add)(layer, dW, db));
  } else {
    backwardNetwork(params, L.critic, shape.activation, obs, cache.criticHiddens, dValues, B, overwrite);
  }
  return grads;
}
