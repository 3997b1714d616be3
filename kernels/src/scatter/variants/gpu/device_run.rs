//! One GPU run: buffers up, dispatches, field down, each step timed and checked.

use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use num_complex::Complex32;

use super::shader::{self, SEGMENT_STRIDE, ShaderFloat};
use super::{NAME, Precision};
use crate::gpu::{Gpu, gpu};
use crate::scatter::field::Field;
use crate::scatter::geometry::Scene;
use crate::scatter::problem::Problem;
use crate::scatter::variant::{Phase, RunOutput, RunSettings, VariantError};

/// Pairs one dispatch may hold, so that no single dispatch runs long enough
/// to trip a desktop GPU's watchdog (Windows TDR, about 2 s).
const PAIRS_PER_DISPATCH: u64 = 1 << 22;

/// Bytes per node in the result: incident and scattered, each two f32.
const RESULT_BYTES_PER_NODE: u64 = 16;

pub(super) fn run(problem: &Problem, settings: &RunSettings) -> Result<RunOutput, VariantError> {
    let setup_started = Instant::now();
    let gpu = gpu().map_err(|unavailable| VariantError::Unavailable {
        variant: NAME,
        reason: unavailable.reason,
        hint: unavailable.hint,
    })?;
    if let Some(fault) = reported_fault(gpu) {
        return Err(VariantError::failed(NAME, fault));
    }
    let (float, precision) = if gpu.facts.shader_f64 && !settings.force_f32 {
        (ShaderFloat::F64, Precision::F64)
    } else {
        (ShaderFloat::F32, Precision::F32Compensated)
    };
    let scopes = ErrorScopes::push(&gpu.device);
    let pipeline = pipeline(gpu, float);
    let setup = setup_started.elapsed();

    let scene = Scene::new(problem);
    let nodes = (scene.nodes_x() * scene.nodes_y()) as u64;
    let result_bytes = nodes * RESULT_BYTES_PER_NODE;
    let limits = &gpu.facts.limits;
    let allowed = limits
        .max_storage_buffer_binding_bytes
        .min(limits.max_buffer_bytes);
    // Node indices are u32 in the shader.
    if result_bytes > allowed || nodes > u64::from(u32::MAX) {
        return Err(VariantError::failed(
            NAME,
            format!(
                "the field needs a {} MiB GPU buffer but {} allows {} MiB; reduce --nx or --ny",
                result_bytes >> 20,
                gpu.facts.name,
                allowed >> 20
            ),
        ));
    }

    let upload_started = Instant::now();
    let buffers = Buffers::upload(gpu, &scene, float, result_bytes);
    wait(gpu, gpu.queue.submit([]), Duration::from_secs(60), "upload")?;
    let upload = upload_started.elapsed();

    let compute_started = Instant::now();
    let workgroup_size = gpu.workgroup_size();
    let dispatches = dispatch(gpu, &pipeline, &buffers, &scene, workgroup_size)?;
    let compute = compute_started.elapsed();

    let download_started = Instant::now();
    let field = download(gpu, &buffers, &scene, result_bytes)?;
    let download = download_started.elapsed();

    scopes.check()?;
    if let Some(fault) = gpu.fault() {
        return Err(VariantError::failed(NAME, fault));
    }
    let mut output = RunOutput::field(field)
        .with_note(precision.note())
        .with_note(format!("adapter: {}", gpu.facts.summary()))
        .with_note(format!(
            "{dispatches} dispatch(es) of workgroups of {workgroup_size} invocations"
        ));
    if gpu.facts.software {
        output = output.with_note(
            "software adapter: the run checks the GPU code path; its timings say nothing about a GPU",
        );
    }
    output.phases = vec![
        Phase {
            name: "setup",
            duration: setup,
        },
        Phase {
            name: "upload",
            duration: upload,
        },
        Phase {
            name: "compute",
            duration: compute,
        },
        Phase {
            name: "download",
            duration: download,
        },
    ];
    Ok(output)
}

/// The compiled pipeline for `float`, compiled on first use in this process.
fn pipeline(gpu: &Gpu, float: ShaderFloat) -> wgpu::ComputePipeline {
    static PIPELINES: Mutex<Vec<(ShaderFloat, wgpu::ComputePipeline)>> = Mutex::new(Vec::new());
    let mut pipelines = PIPELINES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, pipeline)) = pipelines.iter().find(|(f, _)| *f == float) {
        return pipeline.clone();
    }
    let module = gpu
        .device
        .create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("scatter"),
            source: wgpu::ShaderSource::Wgsl(shader::source(float, gpu.workgroup_size()).into()),
        });
    let pipeline = gpu
        .device
        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("scatter"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
    pipelines.push((float, pipeline.clone()));
    pipeline
}

/// Validation and out-of-memory errors of one run, caught instead of panicking.
///
/// wgpu requires scopes to be popped in the reverse order of their pushing, and
/// panics otherwise; fields drop in declaration order, so `memory` (pushed last)
/// comes first: a run that returns early pops both in the right order too.
struct ErrorScopes {
    memory: wgpu::ErrorScopeGuard,
    validation: wgpu::ErrorScopeGuard,
}

impl ErrorScopes {
    fn push(device: &wgpu::Device) -> ErrorScopes {
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        ErrorScopes { memory, validation }
    }

    fn check(self) -> Result<(), VariantError> {
        // Scopes are popped in the reverse order of their pushing.
        let memory = pollster::block_on(self.memory.pop());
        let validation = pollster::block_on(self.validation.pop());
        match memory.or(validation) {
            None => Ok(()),
            Some(error) => Err(VariantError::failed(
                NAME,
                format!("the GPU rejected the run: {error}"),
            )),
        }
    }
}

/// The run's device buffers, in binding order.
struct Buffers {
    dims: wgpu::Buffer,
    inputs: Vec<wgpu::Buffer>,
    result: wgpu::Buffer,
}

/// `values` in the shader's float type, as little-endian bytes.
fn encode(values: impl Iterator<Item = f64>, float: ShaderFloat) -> Vec<u8> {
    match float {
        ShaderFloat::F64 => values.flat_map(f64::to_le_bytes).collect(),
        ShaderFloat::F32 => values.flat_map(|v| (v as f32).to_le_bytes()).collect(),
    }
}

impl Buffers {
    /// Creates the buffers and queues their contents (sent with the next submission).
    fn upload(gpu: &Gpu, scene: &Scene, float: ShaderFloat, result_bytes: u64) -> Buffers {
        let s = &scene.segments;
        let segments = (0..s.len()).flat_map(|k| {
            [
                s.mid_x[k],
                s.mid_y[k],
                s.normal_x[k],
                s.normal_y[k],
                s.n_dot_k[k],
                s.signed_kmod[k],
                s.weight_re[k],
                s.weight_im[k],
            ]
        });
        debug_assert_eq!(segments.clone().count(), SEGMENT_STRIDE * s.len());
        let contents = [
            encode(scene.grid.x.iter().copied(), float),
            encode(scene.grid.y.iter().copied(), float),
            encode(scene.points.iter().flatten().copied(), float),
            encode(segments, float),
            encode([scene.k[0], scene.k[1], scene.kmod].into_iter(), float),
        ];
        let inputs = contents
            .iter()
            .map(|bytes| {
                let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("scatter input"),
                    size: bytes.len() as u64,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                gpu.queue.write_buffer(&buffer, 0, bytes);
                buffer
            })
            .collect();
        Buffers {
            dims: gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("scatter dispatch"),
                size: 16,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            inputs,
            result: gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("scatter field"),
                size: result_bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
        }
    }
}

/// Waits for `submission`, at most `limit`.
fn wait(
    gpu: &Gpu,
    submission: wgpu::SubmissionIndex,
    limit: Duration,
    what: &str,
) -> Result<(), VariantError> {
    gpu.device
        .poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout: Some(limit),
        })
        .map(drop)
        .map_err(|e| {
            // A device that stops completing work was lost or reset (wgpu may not have
            // called the loss back yet): the next runs must not try it again.
            let reason = reported_fault(gpu).unwrap_or_else(|| {
                gpu.record_fault(format!(
                    "the GPU device was lost or reset: it stopped completing the {what} ({e})"
                ))
            });
            VariantError::failed(NAME, reason)
        })
}

/// The device's loss or error, after letting wgpu deliver any pending notice of it
/// (it reports a loss from its maintenance, which a non-blocking poll runs).
fn reported_fault(gpu: &Gpu) -> Option<String> {
    let _ = gpu.device.poll(wgpu::PollType::Poll);
    gpu.fault()
}

/// Runs the kernel over all nodes in dispatches of bounded work; returns their count.
fn dispatch(
    gpu: &Gpu,
    pipeline: &wgpu::ComputePipeline,
    buffers: &Buffers,
    scene: &Scene,
    workgroup_size: u32,
) -> Result<u64, VariantError> {
    let layout = pipeline.get_bind_group_layout(0);
    let entries: Vec<wgpu::BindGroupEntry> = std::iter::once(&buffers.dims)
        .chain(&buffers.inputs)
        .chain(std::iter::once(&buffers.result))
        .enumerate()
        .map(|(binding, buffer)| wgpu::BindGroupEntry {
            binding: binding as u32,
            resource: buffer.as_entire_binding(),
        })
        .collect();
    let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("scatter"),
        layout: &layout,
        entries: &entries,
    });
    let nodes = (scene.nodes_x() * scene.nodes_y()) as u64;
    let segments = scene.segments.len() as u64;
    let group = u64::from(workgroup_size);
    let max_groups = u64::from(gpu.facts.limits.max_workgroups_per_dimension.max(1));
    let groups_per_dispatch = (PAIRS_PER_DISPATCH / (segments * group)).clamp(1, max_groups);
    let nodes_per_dispatch = groups_per_dispatch * group;
    let mut first = 0;
    let mut dispatches = 0;
    let mut last = None;
    while first < nodes {
        let end = (first + nodes_per_dispatch).min(nodes);
        let dims = [scene.nodes_x() as u64, end, segments, first]
            .map(|v| u32::try_from(v).expect("run() refuses more than u32::MAX nodes"));
        // Applied before the next submission, so each dispatch sees its own range.
        gpu.queue
            .write_buffer(&buffers.dims, 0, &dims.map(u32::to_le_bytes).concat());
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups((end - first).div_ceil(group) as u32, 1, 1);
        }
        last = Some(gpu.queue.submit([encoder.finish()]));
        dispatches += 1;
        first = end;
    }
    // Generous: a software adapter manages tens of nanoseconds per pair, a GPU far less.
    let limit = Duration::from_secs(60) + Duration::from_micros(nodes * segments);
    if let Some(last) = last {
        wait(gpu, last, limit, "computation")?;
    }
    Ok(dispatches)
}

/// Copies the result back and unpacks it into a [`Field`].
fn download(
    gpu: &Gpu,
    buffers: &Buffers,
    scene: &Scene,
    result_bytes: u64,
) -> Result<Field, VariantError> {
    let readback = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("scatter readback"),
        size: result_bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(&buffers.result, 0, &readback, 0, result_bytes);
    let submission = gpu.queue.submit([encoder.finish()]);
    let (sender, receiver) = mpsc::channel();
    readback
        .slice(..)
        .map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
    wait(gpu, submission, Duration::from_secs(60), "download")?;
    receiver
        .try_recv()
        .map_err(|_| VariantError::failed(NAME, "the GPU did not map the result for reading"))?
        .map_err(|e| VariantError::failed(NAME, format!("the result could not be mapped: {e}")))?;
    let mut field = Field::zeros(scene.nodes_x(), scene.nodes_y());
    {
        let bytes = readback.slice(..).get_mapped_range().map_err(|e| {
            VariantError::failed(NAME, format!("the result could not be read: {e}"))
        })?;
        for ((incident, scattered), node) in field
            .incident
            .iter_mut()
            .zip(field.scattered.iter_mut())
            .zip(bytes.chunks_exact(RESULT_BYTES_PER_NODE as usize))
        {
            let value = |i: usize| {
                f32::from_le_bytes([
                    node[4 * i],
                    node[4 * i + 1],
                    node[4 * i + 2],
                    node[4 * i + 3],
                ])
            };
            *incident = Complex32::new(value(0), value(1));
            *scattered = Complex32::new(value(2), value(3));
        }
    }
    readback.unmap();
    Ok(field)
}

#[cfg(test)]
mod tests {
    //! A GPU that fails under a run: the device is destroyed (what a driver reset or a
    //! removed GPU does), in a child process of this test binary, since the device is
    //! shared by the whole process.

    use std::process::Command;
    use std::thread;

    use super::*;
    use crate::scatter::registry;
    use crate::scatter::variants::children::output_with_deadline;

    const CHILD: &str = "HPC_KERNELS_GPU_LOSS_CHILD";
    const THIS_TEST: &str = "scatter::variants::gpu::device_run::tests::a_device_lost_before_or_during_a_run_fails_it_cleanly";

    fn problem(cells: usize) -> Problem {
        Problem::builder()
            .cells(cells, cells)
            .segments(cells)
            .build()
            .unwrap()
    }

    /// The child's part: a good run, one whose device is destroyed while it runs, one after.
    fn lose_the_device() {
        let variant = registry::find(NAME).unwrap();
        let settings = RunSettings::default();
        let before = variant
            .run(&problem(24), &settings)
            .expect("a run before the loss");
        assert!(before.field.is_some());

        let device = gpu().expect("an adapter").device.clone();
        let destroyer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            device.destroy();
        });
        // Long enough on a software adapter (about half a second) for the loss to come mid-run.
        let started = Instant::now();
        let during = variant.run(&problem(256), &settings);
        destroyer.join().unwrap();
        match during {
            // The GPU finished first: then its field must still be there.
            Ok(output) => {
                assert!(output.field.is_some());
                println!(
                    "the run finished before the loss, in {:?}",
                    started.elapsed()
                );
            }
            Err(error) => {
                assert!(error.to_string().contains("GPU"), "{error}");
                println!(
                    "the loss failed the run after {:?}: {error}",
                    started.elapsed()
                );
            }
        }

        let after = variant
            .run(&problem(24), &settings)
            .expect_err("a lost device cannot run");
        let message = after.to_string();
        assert!(message.contains("the GPU device was lost"), "{message}");
        println!("{CHILD}: {message}");
    }

    #[test]
    fn a_device_lost_before_or_during_a_run_fails_it_cleanly() {
        if std::env::var_os(CHILD).is_some() {
            lose_the_device();
            return;
        }
        if let Err(unavailable) = gpu() {
            assert!(
                std::env::var_os("HPC_REQUIRE_GPU").is_none(),
                "HPC_REQUIRE_GPU is set but {}",
                unavailable.reason
            );
            eprintln!("skipped: {}", unavailable.reason);
            return;
        }
        let mut child = Command::new(std::env::current_exe().unwrap());
        child
            .args([THIS_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1");
        let output = output_with_deadline(child, Duration::from_secs(120))
            .expect("the child finishes: a lost device must not hang a run");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains(&format!("{CHILD}: ")),
            "status {:?}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
