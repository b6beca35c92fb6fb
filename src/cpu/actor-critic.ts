/**
 * CPU reference of the whole actor-critic network of one agent, composed from the per-op references:
 *   actor:  obs [B×O] → Linear(O→H) → act → actorHidden [B×H] → Linear(H→A) → logits [B×A]
 *   critic: obs [B×O] → Linear(O→H) → act → criticHidden [B×H] → Linear(H→V) → values [B×V]
 * Separate networks (no shared trunk), as in the seed article. Parameters and gradients live in one
 * flat buffer laid out by src/model/layout.ts; the backward overwrites every gradient element.
 * The cache keeps only the post-activation hidden layers: the backward of both activations can be
 * taken from the output (src/cpu/activation.ts), which saves the GPU a [B×H] buffer per network.
 */
import { paramLayout, tensorView, type FloatArray, type NetShape, type TensorName } from '../model/layout.ts';
import { activationBackward, activationForward } from './activation.ts';
import { linearBackward, linearForward } from './linear.ts';

export interface ActorCriticCache {
  actorHidden: Float64Array; // [B×H]
  logits: Float64Array; // [B×A]
  criticHidden: Float64Array; // [B×H]
  values: Float64Array; // [B×V]
}

export function actorCriticForward(params: FloatArray, shape: NetShape, obs: ArrayLike<number>, B: number): ActorCriticCache {
  const L = paramLayout(shape);
  const { obsSize: O, hiddenSize: H, numActions: A, valueOutputs: V, activation } = shape;
  if (params.length !== L.total) throw new Error(`actorCriticForward: params has ${params.length} elements, layout needs ${L.total}`);
  const p = (name: TensorName) => tensorView(params, L[name]);
  const actorHidden = new Float64Array(B * H);
  const logits = new Float64Array(B * A);
  const criticHidden = new Float64Array(B * H);
  const values = new Float64Array(B * V);

  linearForward(actorHidden, obs, p('actorW1'), p('actorB1'), B, O, H);
  activationForward(activation, actorHidden, actorHidden, B * H);
  linearForward(logits, actorHidden, p('actorW2'), p('actorB2'), B, H, A);

  linearForward(criticHidden, obs, p('criticW1'), p('criticB1'), B, O, H);
  activationForward(activation, criticHidden, criticHidden, B * H);
  linearForward(values, criticHidden, p('criticW2'), p('criticB2'), B, H, V);
  return { actorHidden, logits, criticHidden, values };
}

/**
 * Gradients of a loss w.r.t. all parameters, given its gradients w.r.t. logits [B×A] and values [B×V],
 * written over `grads` (flat, same layout as params; a fresh f64 buffer by default) and returned.
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
  const { obsSize: O, hiddenSize: H, numActions: A, valueOutputs: V, activation } = shape;
  if (grads.length !== L.total) throw new Error(`actorCriticBackward: grads has ${grads.length} elements, layout needs ${L.total}`);
  const p = (name: TensorName) => tensorView(params, L[name]);
  const g = (name: TensorName) => tensorView(grads, L[name]);
  const dHidden = new Float64Array(B * H);

  linearBackward(dHidden, g('actorW2'), g('actorB2'), dLogits, cache.actorHidden, p('actorW2'), B, H, A);
  activationBackward(activation, dHidden, dHidden, cache.actorHidden, B * H);
  linearBackward(null, g('actorW1'), g('actorB1'), dHidden, obs, p('actorW1'), B, O, H);

  linearBackward(dHidden, g('criticW2'), g('criticB2'), dValues, cache.criticHidden, p('criticW2'), B, H, V);
  activationBackward(activation, dHidden, dHidden, cache.criticHidden, B * H);
  if (shape.sharedTrunk) {
    // The trunk serves both heads: its gradient is the sum of the two paths.
    const dW1 = new Float64Array(O * H);
    const dB1 = new Float64Array(H);
    linearBackward(null, dW1, dB1, dHidden, obs, p('criticW1'), B, O, H);
    g('actorW1').forEach((v, i, a) => (a[i] = v + dW1[i]));
    g('actorB1').forEach((v, i, a) => (a[i] = v + dB1[i]));
  } else {
    linearBackward(null, g('criticW1'), g('criticB1'), dHidden, obs, p('criticW1'), B, O, H);
  }
  return grads;
}
