/**
 * Layout of one agent's parameters in ONE flat buffer (llm.c style): the GPU binds a single storage
 * buffer per agent (G agents side by side), Adam/RMSprop/clipping run over it as one vector, and each
 * tensor is a named slice of it.
 *
 * Networks of any depth: the actor O → H_1 → … → H_L → A and the critic O → H'_1 → … → H'_L' → V, each
 * layer a Linear then the activation (none after the last). Order in the buffer: the actor's layers
 * (weight, bias) input to output, the critic's, then `log_std` [A] for a Gaussian policy. With a shared
 * trunk the critic's hidden layers are the actor's (the same slots) and the critic owns only its head.
 * Layer ℓ (1-based) of the actor is `actorW${ℓ}`/`actorB${ℓ}` here and `actor.${2(ℓ−1)}.weight`/`.bias`
 * in PyTorch (nn.Sequential index: Linear, activation, Linear, …); the one-layer networks keep the names
 * actorW1, actorB1, actorW2, actorB2, criticW1, … and the exact offsets they always had.
 * Weights are [in × out] row-major (element (i, o) at i*out + o) so that y = x·W + b reads W by rows;
 * this is the transpose of PyTorch's nn.Linear.weight [out × in].
 */

/** Every CPU reference takes f32 (what the GPU holds) or f64 (what finite-difference tests need). */
export type FloatArray = Float32Array | Float64Array;

export type Activation = 'relu' | 'tanh';
export type PolicyHead = 'categorical' | 'gaussian';

export interface NetShape {
  /** O: observation size. */
  obsSize: number;
  /** H: the width of the one hidden layer of both networks when actorHidden/criticHidden are absent. */
  hiddenSize: number;
  /** Hidden widths of the actor, input to output (any depth ≥ 1); default [hiddenSize]. */
  actorHidden?: number[];
  /** Hidden widths of the critic; default [hiddenSize]. Must equal actorHidden with a shared trunk. */
  criticHidden?: number[];
  /** A: discrete actions (logits), or the Box's dimensions D (means) for a Gaussian policy. */
  numActions: number;
  /** V: 1 for a state-value critic V(s), A for an action-value critic Q(s,·). */
  valueOutputs: number;
  activation: Activation;
  /** The hidden layers shared by actor and critic (a "shared trunk"); each network keeps its own head. */
  sharedTrunk?: boolean;
  /** 'gaussian': the actor outputs means and a state-independent log_std [A] follows; default categorical. */
  policy?: PolicyHead;
}

/** Internal names: `actorW${ℓ}`, `actorB${ℓ}`, `criticW${ℓ}`, `criticB${ℓ}` (ℓ from 1), `logStd`. */
export type TensorName = string;

export type TensorRole = 'hidden' | 'policy' | 'value' | 'logStd';

export interface TensorSlot {
  name: TensorName;
  /** PyTorch's state-dict name: actor.0.weight, …, critic.2.bias, log_std. */
  torchName: string;
  /** Position in buffer order; also the RNG stream offset used by src/cpu/init.ts. */
  index: number;
  offset: number;
  size: number;
  /** [in, out] for a weight, [out] for a bias or log_std. */
  shape: [number, number] | [number];
  /** Inputs of the layer the tensor belongs to (PyTorch's fan_in for both its weight and bias). */
  fanIn: number;
  /** What the layer computes: init gains and the loss depend on it. */
  role: TensorRole;
}

/** One Linear layer: its weight [in × out] and bias [out] slots; `activated`: the activation follows it. */
export interface LayerSlots {
  weight: TensorSlot;
  bias: TensorSlot;
  inputs: number;
  outputs: number;
  activated: boolean;
}

export type ParamLayout = Record<TensorName, TensorSlot> & {
  /** The slots in buffer order (the critic's hidden layers are absent with a shared trunk: they alias). */
  tensors: TensorSlot[];
  /** P: number of parameters of one agent. */
  total: number;
  /** The actor's layers, input to output; the last is its head (no activation). */
  actor: LayerSlots[];
  /** The critic's layers; with a shared trunk its hidden layers are the actor's slots. */
  critic: LayerSlots[];
  /** A Gaussian policy's state-independent log standard deviations [A]. */
  logStd?: TensorSlot;
};

export function actorHiddenOf(shape: NetShape): number[] {
  return shape.actorHidden ?? [shape.hiddenSize];
}

export function criticHiddenOf(shape: NetShape): number[] {
  return shape.criticHidden ?? (shape.sharedTrunk ? actorHiddenOf(shape) : [shape.hiddenSize]);
}

/** True for the networks the fused kernels were written for: one hidden layer each, a categorical head. */
export function isOneLayer(shape: NetShape): boolean {
  return actorHiddenOf(shape).length === 1 && criticHiddenOf(shape).length === 1 && (shape.policy ?? 'categorical') === 'categorical';
}

/** The fused kernels' networks: one hidden layer of the same width in actor and critic, a categorical head. */
export function fusedApplies(shape: NetShape): boolean {
  return isOneLayer(shape) && actorHiddenOf(shape)[0] === criticHiddenOf(shape)[0];
}

export function paramLayout(shape: NetShape): ParamLayout {
  const { obsSize: O, numActions: A, valueOutputs: V } = shape;
  const actorHidden = actorHiddenOf(shape);
  const criticHidden = criticHiddenOf(shape);
  const gaussian = shape.policy === 'gaussian';
  for (const [key, n] of Object.entries({ O, A, V })) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`paramLayout: ${key} must be a positive integer, got ${n}`);
  }
  for (const h of [...actorHidden, ...criticHidden]) {
    if (!Number.isInteger(h) || h < 1) throw new Error(`paramLayout: hidden widths must be positive integers, got ${h}`);
  }
  if (actorHidden.length < 1 || criticHidden.length < 1) throw new Error('paramLayout: each network needs at least one hidden layer');
  if (V !== 1 && V !== A) throw new Error(`paramLayout: valueOutputs must be 1 (V(s)) or numActions=${A} (Q(s,·)), got ${V}`);
  if (shape.sharedTrunk && actorHidden.join() !== criticHidden.join()) throw new Error('paramLayout: a shared trunk needs the same hidden layers for actor and critic');

  const tensors: TensorSlot[] = [];
  let offset = 0;
  const add = (name: string, torchName: string, dims: [number, number] | [number], fanIn: number, role: TensorRole) => {
    const size = dims.reduce((a, b) => a * b, 1);
    const slot: TensorSlot = { name, torchName, index: tensors.length, offset, size, shape: dims, fanIn, role };
    tensors.push(slot);
    offset += size;
    return slot;
  };
  const network = (prefix: 'actor' | 'critic', hidden: number[], outputs: number, headRole: TensorRole, trunk?: LayerSlots[]): LayerSlots[] => {
    const widths = [O, ...hidden, outputs];
    return widths.slice(1).map((out, l) => {
      const inputs = widths[l];
      const head = l === hidden.length;
      if (!head && trunk) return trunk[l];
      const role = head ? headRole : 'hidden';
      const weight = add(`${prefix}W${l + 1}`, `${prefix}.${2 * l}.weight`, [inputs, out], inputs, role);
      const bias = add(`${prefix}B${l + 1}`, `${prefix}.${2 * l}.bias`, [out], inputs, role);
      return { weight, bias, inputs, outputs: out, activated: !head };
    });
  };
  const actor = network('actor', actorHidden, A, 'policy');
  const critic = network('critic', criticHidden, V, 'value', shape.sharedTrunk ? actor : undefined);
  const logStd = gaussian ? add('logStd', 'log_std', [A], 1, 'logStd') : undefined;

  const byName: Record<string, TensorSlot> = Object.fromEntries(tensors.map((t) => [t.name, t]));
  // With a shared trunk the critic's hidden layers answer to their own names too (the actor's slots).
  critic.forEach((layer, l) => {
    byName[`criticW${l + 1}`] ??= layer.weight;
    byName[`criticB${l + 1}`] ??= layer.bias;
  });
  return { ...byName, tensors, total: offset, actor, critic, ...(logStd ? { logStd } : {}) } as ParamLayout;
}

/** The slice of `flat` (params, grads or optimizer state) that holds `slot`; shares memory. */
export function tensorView<T extends FloatArray>(flat: T, slot: TensorSlot): T {
  return flat.subarray(slot.offset, slot.offset + slot.size) as T;
}
